"""The KServe predictor: V1 and V2 protocols, feedback, and the monitoring contract.

    mlops-model-serve --model /opt/model [--name breast-cancer] [--port 8080] [--no-monitoring]
    mlops-model-serve --model models:/breast-cancer@champion

Endpoints (KServe ModelServer): ``POST /v1/models/<name>:predict`` with
``{"instances": [[30 numbers], ...]}`` and ``POST /v2/models/<name>/infer`` with one FP64/FP32/INT
input of shape [n, 30]; ``GET /v2/health/ready``, ``GET /v1/models/<name>``, ``GET /metrics``.
Each prediction carries a request id (the ``x-request-id`` header, the V2 request ``id``, or a
new one); ``POST /v1/models/<name>:feedback`` with ``{"request_id": ..., "labels": [...]}`` gives
the true labels later and moves ``model_accuracy``. With ``--feedback-dir`` each labelled
prediction (its features, prediction, label, time and model version) is also kept there for
retraining, capped by ``--feedback-max-rows`` and ``--feedback-max-days`` (mlops_model.feedback),
and ``GET /v1/models/<name>:feedback`` exports the kept rows as CSV; with monitoring off nothing
is kept. Every option has an environment variable (MODEL_SOURCE, MODEL_NAME, MODEL_MONITORING=off,
MODEL_FEEDBACK_DIR, ...) for the container.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import sklearn
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from mlops_model import artifacts
from mlops_model.errors import InvalidInput, MissingValues, ModelError
from mlops_model.feedback import DEFAULT_MAX_DAYS, DEFAULT_MAX_ROWS, FeedbackStore
from mlops_model.monitoring import Monitor, MonitorSettings

__all__ = ["ENV", "main", "make_classifier_class", "parse_v1", "parse_v2"]

ENV = {
    "model": "MODEL_SOURCE",
    "name": "MODEL_NAME",
    "host": "MODEL_HOST",
    "port": "MODEL_PORT",
    "monitoring": "MODEL_MONITORING",
    "window": "MODEL_DRIFT_WINDOW",
    "min_samples": "MODEL_DRIFT_MIN_SAMPLES",
    "psi_threshold": "MODEL_PSI_THRESHOLD",
    "max_body_bytes": "MODEL_MAX_BODY_BYTES",
    "max_instances": "MODEL_MAX_INSTANCES",
    "feedback_dir": "MODEL_FEEDBACK_DIR",
    "feedback_max_rows": "MODEL_FEEDBACK_MAX_ROWS",
    "feedback_max_days": "MODEL_FEEDBACK_MAX_DAYS",
}
DEFAULT_NAME = "breast-cancer"
NUMERIC_V2_TYPES = {"FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"}


# --- input validation ----------------------------------------------------------------------------


def _check_matrix(matrix: np.ndarray, features: int, where: str) -> np.ndarray:
    if matrix.ndim != 2 or matrix.shape[1] != features:
        raise InvalidInput(f"{where} has shape {list(matrix.shape)}: the model expects [n, {features}] features")
    bad = ~np.isfinite(matrix)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise MissingValues(
            f"{where} instance {row} feature {col} is {matrix[row, col]}: values must be finite numbers",
            bad.sum(axis=0).tolist(),
            int(bad.any(axis=1).sum()),
        )
    return matrix


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def _missing(instances: list, names: list[str]) -> tuple[list[int], int]:
    """Instances lacking values (a key absent, null, NaN or infinite): the count per feature, and of instances."""
    per_feature = [0] * len(names)
    rows = 0
    for row in instances:
        if isinstance(row, dict):
            flags = [n not in row or _is_missing(row[n]) for n in names]
        elif isinstance(row, list) and len(row) == len(names):
            flags = [_is_missing(v) for v in row]
        else:
            continue
        per_feature = [c + f for c, f in zip(per_feature, flags, strict=True)]
        rows += any(flags)
    return per_feature, rows


def _explain_rows(instances: list, features: int, names: list[str]) -> InvalidInput:
    """The first problem in a list of instances that numpy could not turn into numbers."""
    for i, row in enumerate(instances):
        if isinstance(row, dict):
            continue
        if not isinstance(row, list):
            return InvalidInput(f"instance {i} is {type(row).__name__}: each instance is a list of {features} numbers")
        if len(row) != features:
            return InvalidInput(f"instance {i} has {len(row)} values: the model expects {features} features")
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return InvalidInput(f"instance {i} feature {j} ({names[j]}) is not a number: {value!r}")
            if not math.isfinite(value):
                return InvalidInput(f"instance {i} feature {j} ({names[j]}) is {value}: values must be finite numbers")
    return InvalidInput("instances must be lists of numbers")


def _rows_from_dicts(instances: list, names: list[str]) -> list:
    rows = []
    for i, row in enumerate(instances):
        if not isinstance(row, dict):
            rows.append(row)
            continue
        missing = [n for n in names if n not in row]
        extra = sorted(set(row) - set(names))
        if missing or extra:
            raise InvalidInput(f"instance {i} does not match the features: missing {missing[:3]}, unknown {extra[:3]}")
        rows.append([row[n] for n in names])
    return rows


def parse_v1(payload: Any, names: list[str], max_instances: int) -> np.ndarray:
    """``{"instances": [[...], ...]}`` (lists in feature order or objects keyed by feature name)."""
    if isinstance(payload, bytes | str):  # KServe leaves bodies whose content-type is not JSON undecoded
        try:
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError as e:
            raise InvalidInput(f"the body is not valid JSON: {e}") from e
    if not isinstance(payload, dict) or "instances" not in payload:
        raise InvalidInput('the body must be a JSON object with "instances": a list of rows of numbers')
    instances = payload["instances"]
    if not isinstance(instances, list) or not instances:
        raise InvalidInput('"instances" must be a non-empty list of rows')
    if len(instances) > max_instances:
        raise InvalidInput(f"{len(instances)} instances in one request: the limit is {max_instances}")
    try:
        return _matrix_v1(instances, names)
    except InvalidInput as e:
        per_feature, rows = _missing(instances, names)
        if not rows:
            raise
        raise MissingValues(str(e), per_feature, rows) from None


def _matrix_v1(instances: list, names: list[str]) -> np.ndarray:
    if any(isinstance(r, dict) for r in instances):
        instances = _rows_from_dicts(instances, names)
    try:
        matrix = np.array(instances)
    except (ValueError, TypeError):
        raise _explain_rows(instances, len(names), names) from None
    if matrix.dtype.kind not in "iuf":
        raise _explain_rows(instances, len(names), names)
    if matrix.ndim != 2 or matrix.shape[1] != len(names):
        raise _explain_rows(instances, len(names), names)
    return _check_matrix(matrix.astype(np.float64, copy=False), len(names), "request")


def parse_v2(request: Any, features: int, max_instances: int) -> np.ndarray:
    """One numeric input tensor of shape [n, features] (or [features] for a single row)."""
    if len(request.inputs) != 1:
        raise InvalidInput(f"the V2 request has {len(request.inputs)} inputs: send one tensor of shape [n, {features}]")
    tensor = request.inputs[0]
    if tensor.datatype not in NUMERIC_V2_TYPES:
        raise InvalidInput(f"input {tensor.name!r} has datatype {tensor.datatype}: send FP64, FP32 or an INT type")
    try:
        matrix = np.asarray(tensor.as_numpy(), dtype=np.float64)
    except (ValueError, TypeError) as e:
        raise InvalidInput(f"input {tensor.name!r} data does not match shape {tensor.shape}: {e}") from e
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.shape[0] > max_instances:
        raise InvalidInput(f"{matrix.shape[0]} instances in one request: the limit is {max_instances}")
    return _check_matrix(matrix, features, f"input {tensor.name!r}")


# --- the model -------------------------------------------------------------------------------------


def _kserve():
    """kserve parses sys.argv when imported: import it only when serving."""
    import kserve  # noqa: PLC0415
    import kserve.errors  # noqa: PLC0415
    from kserve.protocol.infer_type import InferOutput, InferRequest, InferResponse  # noqa: PLC0415

    return kserve, InferOutput, InferRequest, InferResponse


def make_classifier_class() -> type:
    """The ``kserve.Model`` subclass that serves a trained model (built here, after kserve is imported)."""
    kserve, infer_output, infer_request, infer_response = _kserve()

    class Classifier(kserve.Model):
        """A scikit-learn classifier behind KServe, with an optional Monitor."""

        def __init__(self, name: str, source: str, monitor: Monitor | None, max_instances: int = 1000):
            super().__init__(name)
            self.source = source
            self.monitor = monitor
            self.max_instances = max_instances
            self.loaded: artifacts.LoadedModel | None = None

        def load(self) -> bool:
            self.loaded = artifacts.load(self.source)
            if self.monitor is not None:
                self.monitor.attach(
                    self.loaded.reference, self.loaded.version, str(self.loaded.metadata.get("revision", "unknown"))
                )
            self.ready = True
            return self.ready

        def predict(self, payload: Any, headers: dict[str, str] | None = None) -> Any:
            names = self.loaded.reference.feature_names
            headers = headers or {}
            v2 = isinstance(payload, infer_request)
            try:
                rows = (
                    parse_v2(payload, len(names), self.max_instances)
                    if v2
                    else parse_v1(payload, names, self.max_instances)
                )
            except InvalidInput as e:
                if isinstance(e, MissingValues) and self.monitor is not None:
                    self.monitor.missing(e.per_feature, e.instances)
                raise kserve.errors.InvalidInput(str(e)) from e
            proba = self.loaded.estimator.predict_proba(rows)
            classes = proba.argmax(axis=1)
            request_id = (v2 and payload.id) or headers.get("x-request-id") or uuid.uuid4().hex
            if self.monitor is not None:
                self.monitor.observe(request_id, rows, classes, proba[np.arange(len(classes)), classes])
            if v2:
                outputs = [
                    infer_output("predict", list(classes.shape), "INT64", classes.astype(np.int64)),
                    infer_output("predict_proba", list(proba.shape), "FP64", proba),
                ]
                return infer_response(
                    response_id=request_id, model_name=self.name, infer_outputs=outputs, use_binary_outputs=False
                )
            return {"predictions": classes.tolist(), "probabilities": proba.tolist(), "request_id": request_id}

    return Classifier


# --- HTTP additions: body limit, 400 for unparseable V2 bodies, feedback -------------------------


class BodyLimit:
    """ASGI middleware: requests with a body over ``limit`` bytes get HTTP 400 before any parsing."""

    def __init__(self, app: Callable, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._reject(send, f"request body of {int(declared)} bytes is over the limit of {self.limit}")
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _BodyTooLarge(f"request body is over the limit of {self.limit} bytes")
            return message

        try:
            return await self.app(scope, limited_receive, send)
        except _BodyTooLarge as e:
            return await self._reject(send, str(e))

    @staticmethod
    async def _reject(send, message: str) -> None:
        body = orjson.dumps({"error": message})
        await send(
            {
                "type": "http.response.start",
                "status": 400,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


def install_routes(app, models: dict[str, Any], max_body_bytes: int) -> None:
    """Add the feedback endpoint, the body limit and a 400 for bodies FastAPI cannot parse."""

    async def validation_error(_request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', []))}: {e.get('msg')}" for e in exc.errors())
        return JSONResponse(status_code=400, content={"error": f"invalid request body: {problems}"})

    def monitored(model_name: str):
        """(model, None) for a monitored model, else (None, the error response)."""
        model = models.get(model_name)
        if model is None:
            return None, JSONResponse(status_code=404, content={"error": f"model {model_name!r} is not served here"})
        if model.monitor is None:
            return None, JSONResponse(
                status_code=409, content={"error": "monitoring is off: this server keeps no feedback"}
            )
        return model, None

    async def export_feedback(model_name: str):
        model, refused = monitored(model_name)
        if refused is not None:
            return refused
        if model.monitor.store is None:
            message = "feedback is counted, not kept: start the server with --feedback-dir"
            return JSONResponse(status_code=409, content={"error": message})
        return Response(content=model.monitor.store.export(), media_type="text/csv")

    async def feedback(model_name: str, request: Request):
        model, refused = monitored(model_name)
        if refused is not None:
            return refused
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as e:
            return JSONResponse(status_code=400, content={"error": f"malformed JSON: {e}"})
        if not isinstance(body, dict) or not isinstance(body.get("request_id"), str) or "labels" not in body:
            return JSONResponse(
                status_code=400, content={"error": 'the body must be {"request_id": "<id>", "labels": [...]}'}
            )
        try:
            result = model.monitor.record_feedback(body["request_id"], body["labels"])
        except InvalidInput as e:
            return JSONResponse(status_code=e.http_status, content={"error": str(e)})
        answer = {"request_id": result.request_id, "labels": result.labels, "correct": result.correct,
                  "accuracy": result.accuracy}  # fmt: skip
        if result.kept is not None:  # with --feedback-dir: the rows the store now holds
            answer["kept"] = result.kept
        return answer

    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_api_route("/v1/models/{model_name}:feedback", feedback, methods=["POST"])
    app.add_api_route("/v1/models/{model_name}:feedback", export_feedback, methods=["GET"])
    app.add_middleware(BodyLimit, limit=max_body_bytes)


# --- command line ------------------------------------------------------------------------------------


def _env(key: str, default: Any) -> Any:
    return os.environ.get(ENV[key], default)


def _switch(text: str) -> bool:
    value = str(text).strip().lower()
    if value in {"1", "true", "on", "yes"}:
        return True
    if value in {"0", "false", "off", "no"}:
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not on/off")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mlops-model-serve", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=_env("model", None), help="model directory or MLflow URI [MODEL_SOURCE]")
    p.add_argument("--name", default=_env("name", DEFAULT_NAME), help="model name in the URLs [MODEL_NAME]")
    p.add_argument("--host", default=_env("host", "0.0.0.0"), help="address to bind [MODEL_HOST]")  # noqa: S104
    p.add_argument("--port", type=int, default=int(_env("port", 8080)), help="HTTP port [MODEL_PORT]")
    p.add_argument(
        "--monitoring", type=_switch, default=_switch(_env("monitoring", "on")), help="on/off [MODEL_MONITORING]"
    )
    p.add_argument("--no-monitoring", dest="monitoring", action="store_false", help="same as --monitoring off")
    p.add_argument("--window", type=int, default=int(_env("window", 1000)), help="drift window rows")
    p.add_argument(
        "--min-samples", type=int, default=int(_env("min_samples", 200)), help="rows before PSI is published"
    )
    p.add_argument("--psi-threshold", type=float, default=float(_env("psi_threshold", 0.2)))
    p.add_argument("--feedback-window", type=int, default=500, help="labelled predictions behind model_accuracy")
    p.add_argument(
        "--feedback-dir",
        default=_env("feedback_dir", None),
        help="keep each labelled prediction (features, prediction, label, time, model version; about 270 bytes)"
        " in DIR/feedback.csv for retraining, exported by GET /v1/models/<name>:feedback; a volume in the"
        " cluster. Unset, or with monitoring off: nothing is kept [MODEL_FEEDBACK_DIR]",
    )
    p.add_argument(
        "--feedback-max-rows",
        type=int,
        default=int(_env("feedback_max_rows", DEFAULT_MAX_ROWS)),
        help="rows kept at most, the oldest dropped first (default %(default)s: about 14 MB, at most 43 MB)"
        " [MODEL_FEEDBACK_MAX_ROWS]",
    )
    p.add_argument(
        "--feedback-max-days",
        type=float,
        default=float(_env("feedback_max_days", DEFAULT_MAX_DAYS)),
        help="rows older than this are dropped (default %(default)s) [MODEL_FEEDBACK_MAX_DAYS]",
    )
    p.add_argument("--max-body-bytes", type=int, default=int(_env("max_body_bytes", 1 << 20)))
    p.add_argument("--max-instances", type=int, default=int(_env("max_instances", 1000)))
    p.add_argument("--trace-log", action="store_true", help="keep KServe's per-request timing log lines")
    return p


def build_server(args: argparse.Namespace):
    """The ModelServer (bound to ``args.host``), and the loaded, registered model."""
    kserve, *_ = _kserve()
    from kserve import model_server  # noqa: PLC0415
    from kserve.protocol.rest.server import RESTServer  # noqa: PLC0415

    class BoundModelServer(kserve.ModelServer):
        """KServe's ModelServer, single process, listening on a chosen address instead of 0.0.0.0."""

        def start(self, models):
            self._register_and_check_atleast_one_model_is_ready(models)
            self._rest_server = RESTServer(
                model_server.FASTAPI_APP_IMPORT_STRING,
                self.dataplane,
                self.model_repository_extension,
                self.http_port,
                grace_period=self.grace_period,
                timeout_keep_alive=self.timeout_keep_alive,
            )
            self._rest_server.config.host = args.host
            self.servers.append(self._rest_server.start())
            self.setup_event_loop()
            self.register_signal_handler()
            asyncio.run(self._serve())

        def stop(self, sig: int):
            if self._rest_server is not None:
                self._rest_server._server.should_exit = True
            super().stop(sig)

    monitor = None
    if args.monitoring:
        monitor = Monitor(
            args.name,
            MonitorSettings(
                window=args.window,
                min_samples=args.min_samples,
                psi_threshold=args.psi_threshold,
                feedback_window=args.feedback_window,
            ),
        )
    model = make_classifier_class()(args.name, args.model, monitor, max_instances=args.max_instances)
    model.load()
    if monitor is not None and args.feedback_dir:
        monitor.store = FeedbackStore(
            Path(args.feedback_dir),
            model.loaded.reference.feature_names,
            max_rows=args.feedback_max_rows,
            max_days=args.feedback_max_days,
        )
    install_routes(model_server.app, {args.name: model}, args.max_body_bytes)
    server = BoundModelServer(http_port=args.port, enable_grpc=False, workers=1, enable_latency_logging=False)
    if not args.trace_log:
        # KServe logs two timing lines per request; request_predict_seconds already holds the timings.
        logging.getLogger("kserve.trace").setLevel(logging.WARNING)
    # Inputs are validated (finite numbers, shape) before the model sees them: skip scikit-learn's
    # second validation pass on the serving path.
    sklearn.set_config(assume_finite=True, skip_parameter_validation=True)
    return server, model


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.model:
        print(
            "mlops-model-serve: --model (or MODEL_SOURCE) is required: a model directory or MLflow URI", file=sys.stderr
        )
        return 2
    try:
        server, model = build_server(args)
    except ModelError as e:
        print(f"mlops-model-serve: {e}", file=sys.stderr)
        return e.exit_code
    print(
        f"mlops-model-serve: {args.name} from {model.loaded.source} (version {model.loaded.version}), "
        f"monitoring {'on' if args.monitoring else 'off'}, feedback "
        f"{'kept in ' + args.feedback_dir if model.monitor and model.monitor.store else 'not kept'}, "
        f"http://{args.host}:{args.port}",
        flush=True,
    )
    server.start([model])
    return 0


if __name__ == "__main__":
    sys.exit(main())
