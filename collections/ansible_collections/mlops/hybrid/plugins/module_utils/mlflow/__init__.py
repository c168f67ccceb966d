# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one MLflow client: its environment, the client and MLflow's errors (client), the Model Registry (registry)."""
