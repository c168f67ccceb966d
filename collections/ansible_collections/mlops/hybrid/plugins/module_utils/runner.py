# Copyright: mlops.hybrid contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one shape of a module: an argument spec and one call of :func:`run_module`.

A module's ``main()`` is::

    def main():
        run_module(argspec(), execute)

``execute(module)`` reads ``module.params`` (by name: :func:`options` builds a frozen options
object from them), calls plain-Python module_utils and returns the result dict. The runner
turns the collection's typed errors into ``fail_json`` (``MissingDependency`` through
``missing_required_lib``), reports ``warnings``, keeps ``diff`` only under ``--diff`` and
defaults ``changed`` to false. Nothing else in a module handles errors.
"""

from __future__ import annotations

import dataclasses
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.mlops.hybrid.plugins.module_utils.errors import MissingDependency, MlopsError


def run_module(argument_spec, execute, requires=(), **module_kwargs):
    """Build the AnsibleModule, check ``requires`` ((library, present, import_error) triples), run, exit.

    ``module_kwargs`` go to AnsibleModule (``mutually_exclusive``, ``required_if``, ...); check
    mode is supported unless ``supports_check_mode=False`` is passed.
    """
    module_kwargs.setdefault("supports_check_mode", True)
    module = AnsibleModule(argument_spec=argument_spec, **module_kwargs)
    for library, present, import_error in requires:
        if not present:
            module.fail_json(msg=missing_required_lib(library), exception=import_error)
    try:
        result = execute(module)
    except MlopsError as e:
        extra = dict(e.result)
        exception = extra.pop("exception", None) or traceback.format_exc()
        msg = missing_required_lib(e.library, reason=e.reason) if isinstance(e, MissingDependency) else e.msg
        module.fail_json(msg=msg, exception=exception, **extra)
    finish(module, result)


def finish(module, result):
    """exit_json with ``result``: warnings reported, diff kept only under --diff, changed false by default."""
    result = dict(result)
    for warning in result.pop("warnings", None) or ():
        module.warn(warning)
    diff = result.pop("diff", None)
    if module._diff and diff is not None:
        result["diff"] = diff
    result.setdefault("changed", False)
    module.exit_json(**result)


def options(cls, params, **values):
    """An instance of the dataclass ``cls`` from ``params`` by field name; ``values`` set or override fields.

    Fields that are neither in ``params`` nor in ``values`` keep their defaults, so a module's
    argument spec and the options object meet only by name.
    """
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in values:
            kwargs[f.name] = values[f.name]
        elif f.name in params:
            kwargs[f.name] = params[f.name]
    return cls(**kwargs)
