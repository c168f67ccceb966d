# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only context collectors for the AIOps flows: a pod, a failed workflow run, a model's drift.

``pod``, ``workflow`` and ``model_drift`` collect; ``drift_policy`` decides from the drift figures
(urgency and action, by fixed rules) and does no I/O.

Each ``collect_*`` function is plain Python (no AnsibleModule), takes a ready client, bounds what it
reads, redacts what it returns with the engine's one redaction function, and raises the typed errors.
The modules and the alert bridge call the same functions.
"""
