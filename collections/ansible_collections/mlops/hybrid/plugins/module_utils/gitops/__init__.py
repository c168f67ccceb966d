# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GitOps: image references, round-trip YAML edits, the Git repository and the bump (plain Python)."""
