# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Attributes shared by modules; use as mlops.hybrid.attributes.<lower-case name>.

    # Modules that only read: they run the same in check mode and have nothing to diff.
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode reads the same.
  diff_mode:
    support: none
    description: The module changes nothing, so there is no diff.
"""
