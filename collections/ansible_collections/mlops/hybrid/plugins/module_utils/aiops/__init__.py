# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AIOps engine: classification and log excerpts, redaction, prompts, providers and reports (plain Python)."""
