# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one GitHub client: connection and errors, issues, comments, pull requests and dispatches (plain Python)."""
