# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compute Engine: one session (credentials, clients, retries, operations), firewall rules, instances, listings."""
