"""Where fold trainings run: in this process (``cv.executor: local``) or as Ray tasks (``ray``).

The unit of work is one fold of one configuration (:class:`fold.FoldJob`, trained by
:func:`fold.run_fold`, seeded per fold). ``local``
runs the units one after another in this process, as ``cv`` always did. ``ray`` submits each as one
task asking for ``train.threads`` CPUs (1 when 0) and a GPU when ``train.device`` is ``cuda`` (or
``auto`` on a cluster that has GPUs). With no ``cv.ray_address`` a local Ray sized to this machine
is started (object store capped, see :func:`object_store_bytes`) and shut down afterwards; with an
address (``auto``, ``host:port``, ``ray://host:10001``) the driver joins that cluster.

Each encoded corpus is put into Ray's object store once and shared by every task of it (numpy
arrays are read zero-copy by workers on the same node; a node fetches them once). Tasks send their
fold result and model state back; only the driver writes the run folder, so a cluster needs no
shared file system. A task whose worker dies (killed, out of memory) is run again up to
``cv.max_retries`` times by Ray; a fold still failing then is returned as a failure naming its run
and fold, and every other fold's result is kept.

``import ray`` happens only inside :class:`RayExecutor`: a local run never loads it.

Test-only fault hook (read by the driver, acted on by the worker): ``PSEUDOFACE_FAULT=r0_f1`` makes
every attempt of the fold task ``r0_f1`` kill its worker process (as an out-of-memory kill would);
``PSEUDOFACE_FAULT=r0_f1:once=PATH`` kills only the first attempt (it creates the file ``PATH``; later
attempts see it and train). Unset, nothing happens.
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .plan import fold_threads

if TYPE_CHECKING:  # the fold module (and torch) load when folds run, not when the CLI starts
    from .fold import FoldJob

FAULT_ENV = "PSEUDOFACE_FAULT"
LOCAL_START_ATTEMPTS = 3
LOCAL_OBJECT_STORE_FRACTION = 0.3  # of physical memory, at most (Ray's own default, here a ceiling)


class FoldsFailed(RuntimeError):
    """A run none of whose folds finished (each failed after its retries); the message names them."""


@dataclass
class Failure:
    job: FoldJob
    error: str
    attempts: int

    def record(self) -> dict:
        return {"repeat": self.job.repeat, "fold": self.job.fold, "error": self.error, "attempts": self.attempts}


def object_store_bytes(payload_bytes: int) -> int:
    """A local Ray's object store: the shared corpora with room to spare, at most 30% of memory."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 8 << 30
    want = int(payload_bytes * 1.5) + (256 << 20)
    return max(256 << 20, min(want, int(LOCAL_OBJECT_STORE_FRACTION * memory)))


def fault_for(name: str, spec: str | None = None) -> str | None:
    """The test hook's instruction for fold ``name`` (``r0_f1``): None, ``always`` or a marker path."""
    spec = os.environ.get(FAULT_ENV, "") if spec is None else spec
    for item in filter(None, spec.split(",")):
        fold, _, once = item.partition(":once=")
        if fold.strip() == name:
            return once or "always"
    return None


def _apply_fault(fault: str | None) -> None:
    """In the worker: die as a killed worker would (no exception, no cleanup)."""
    if fault is None:
        return
    if fault != "always":
        if os.path.exists(fault):
            return
        with open(fault, "w") as fh:
            fh.write("killed once\n")
    os._exit(1)


class LocalExecutor:
    """Every fold in this process, one after another (the default)."""
    name = "local"

    def __init__(self, params):
        self.threads = fold_threads(params)

    def workers(self, params) -> int:
        return 1

    def where(self) -> str:
        return "this process"

    def run(self, jobs: list[FoldJob], corpora: list, on_result, bar=None) -> list:
        import torch
        from .fold import run_fold
        from .model import pick_device
        failures: list = []
        previous = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            for job in jobs:
                device = pick_device(job.params.train.device)
                result = run_fold(corpora[job.corpus], job.params, job.repeat, job.fold, job.train_ids,
                                  job.test_ids, device, bar)
                on_result(job, result)
        finally:
            torch.set_num_threads(previous)
        return failures

    def close(self) -> None:
        pass


def _ray_fold(shared, params_dict: dict, repeat: int, fold: int, train_ids: list, test_ids: list,
              threads: int, fault: str | None) -> dict:
    """The Ray task body: one fold training (:func:`fold.run_fold`) on a worker; its result, with
    the model state, goes back to the driver."""
    import torch
    from ..encoding.encode import EncodedCorpus
    from .fold import run_fold
    from .model import pick_device
    from ..params import params_from_dict
    from .runs import code_version
    from .train import keep_freed_memory
    _apply_fault(fault)
    keep_freed_memory()
    torch.set_num_threads(max(1, threads))
    params = params_from_dict(params_dict)
    enc = EncodedCorpus(None, shared["images"], shared["table"], shared["feature_cols"], None, shared["fingerprint"])
    device = pick_device(params.train.device)
    result = run_fold(enc, params, repeat, fold, train_ids, test_ids, device)
    result["device"] = str(device)
    result["worker"] = {"code_version": code_version(), "host": os.uname().nodename}
    return result


def start_local_ray(num_cpus: int, object_store: int):
    """``ray.init`` of a local Ray with ``num_cpus`` CPUs, quiet, started again when Ray's fixed 30 s
    for its node to register ran out (a busy machine); returns the ray module."""
    import ray
    # Ray announces on every local start that it turned its token authentication on (kept on): not
    # a result, and it would land in the executed notebooks
    notice = logging.getLogger("ray._private.authentication.authentication_token_setup")
    for attempt in range(1, LOCAL_START_ATTEMPTS + 1):
        level = notice.level
        notice.setLevel(logging.ERROR)
        try:
            # agent_register_timeout_ms: Ray's 15 s for its agents to start is too short on a loaded
            # 2-core machine (the raylet then aborts)
            ray.init(address="local", num_cpus=num_cpus, object_store_memory=object_store, include_dashboard=False,
                     log_to_driver=False, logging_level=logging.WARNING,
                     _system_config={"agent_register_timeout_ms": 120_000})
            return ray
        except Exception as exc:
            with contextlib.suppress(Exception):
                ray.shutdown()
            if "timed out during startup" not in str(exc) or attempt == LOCAL_START_ATTEMPTS:
                raise
            print(f"note: the local Ray did not start within Ray's 30 s (a busy machine?); starting it again "
                  f"({attempt + 1} of {LOCAL_START_ATTEMPTS})", file=sys.stderr, flush=True)
        finally:
            notice.setLevel(level)


class RayExecutor:
    """One Ray task per fold: a local Ray (no address) or a cluster."""
    name = "ray"

    def __init__(self, params, payload_bytes: int = 0):
        self.threads = max(1, fold_threads(params))
        self.address = params.cv.ray_address
        self.max_retries = params.cv.max_retries
        self._started = False
        self._saved = None
        self.ray = self._connect(payload_bytes)

    def _connect(self, payload_bytes: int):
        from ..params import ParamsError
        try:
            import ray
        except ImportError:
            raise ParamsError("cv.executor: ray is not installed in this environment "
                              "(`pip install -r requirements.txt`)") from None
        if ray.is_initialized():  # a Ray the caller started (a notebook, a test): used, never shut down
            return ray
        if self.address:
            _check_reachable(self.address)  # Ray itself retries an unreachable address for minutes
        self._saved = _process_state()
        quiet = {"logging_level": logging.WARNING, "log_to_driver": False, "include_dashboard": False}
        try:
            if self.address:
                ray.init(address=self.address, **quiet)
            else:
                start_local_ray(os.cpu_count() or 1, object_store_bytes(payload_bytes))
        except Exception as exc:  # ConnectionError, TimeoutError, RuntimeError: Ray's words, one line
            _restore(self._saved)
            what = f"cannot reach a Ray cluster at {self.address}" if self.address else "cannot start a local Ray"
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            hint = ("; a cluster started by `ray start` wants its token: set RAY_AUTH_MODE=token here, with the "
                    "token (`ray get-auth-token` on the head) in RAY_AUTH_TOKEN or ~/.ray/auth_token"
                    if self.address and self.address != "auto" and "RAY_AUTH_MODE" not in os.environ else "")
            raise ParamsError(f"cv.ray_address: {what}: {first}{hint}") from None
        self._started = True
        return ray

    def _resources(self) -> dict:
        return {k: v for k, v in self.ray.cluster_resources().items() if k in ("CPU", "GPU")}

    def _gpus(self, params) -> int:
        device = params.train.device
        return 1 if device == "cuda" or (device == "auto" and self._resources().get("GPU", 0) > 0) else 0

    def workers(self, params) -> int:
        res = self._resources()
        n = int(res.get("CPU", 1) // self.threads)
        if self._gpus(params):
            n = min(n, int(res.get("GPU", 0)))
        return max(1, n)

    def where(self) -> str:
        res = self._resources()
        kind = f"cluster at {self.address}" if self.address else "local Ray"
        cpus, gpus = res.get("CPU", 0), res.get("GPU", 0)
        return f"{kind}, {cpus:g} CPU{'s' * (cpus != 1)}" + (f", {gpus:g} GPU{'s' * (gpus != 1)}" if gpus else "")

    def run(self, jobs: list[FoldJob], corpora: list, on_result, bar=None) -> list:
        from .runs import code_version
        ray = self.ray
        driver_version = code_version()
        task = ray.remote(_ray_fold)
        used = sorted({j.corpus for j in jobs})
        import numpy as np
        # plain arrays (a cached session is a read-only memmap): each corpus put once, read zero-copy
        shared = {i: ray.put({"images": {p: np.asarray(a) for p, a in corpora[i].images.items()}, "table": corpora[i].table,
                              "feature_cols": corpora[i].feature_cols, "fingerprint": corpora[i].fingerprint})
                  for i in used}
        pending = {}
        for job in jobs:
            opts = {"num_cpus": self.threads, "num_gpus": self._gpus(job.params), "max_retries": self.max_retries,
                    "retry_exceptions": False, "name": f"pseudoface {job.label}"}
            ref = task.options(**opts).remote(shared[job.corpus], job.params.to_dict(), job.repeat, job.fold,
                                              job.train_ids, job.test_ids, self.threads, fault_for(job.name))
            pending[ref] = job
        failures = []
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                job = pending.pop(ready[0])
                try:
                    result = ray.get(ready[0])
                except ray.exceptions.RayError as exc:
                    # the task's own exception is not retried (the same fold would raise it again);
                    # a dead worker (killed, out of memory) is, up to cv.max_retries times
                    tries = 1 if isinstance(exc, ray.exceptions.RayTaskError) else self.max_retries + 1
                    failures.append(Failure(job, _ray_error(exc), tries))
                    print(f"error: fold {job.label} failed after {tries} attempt(s): {failures[-1].error}",
                          file=sys.stderr, flush=True)
                    continue
                worker = result.pop("worker")
                if worker["code_version"] != driver_version:
                    failures.append(Failure(job, f"ran on {worker['host']} with pseudoface {worker['code_version']}, "
                                                 f"the driver has {driver_version}: install the same code on every node", 1))
                    print(f"error: fold {job.label}: {failures[-1].error}", file=sys.stderr, flush=True)
                    continue
                on_result(job, result)
        except BaseException:
            for ref in pending:  # interrupted: what finished is saved; the rest is cancelled
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            raise
        finally:
            del shared
        return failures

    def close(self) -> None:
        if self._started:
            self.ray.shutdown()
            self._started = False
            _restore(self._saved)


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """A one-line error, within seconds, when ``host:port`` (or ``ray://host:port``) does not answer."""
    import socket
    from ..params import ParamsError
    if address == "auto":
        return  # Ray looks for a cluster started on this machine and says so at once when there is none
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise ParamsError(f"cv.ray_address: expected auto, HOST:PORT or ray://HOST:PORT; got {address!r}")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ParamsError(f"cv.ray_address: cannot reach a Ray cluster at {address} "
                          f"({exc.strerror or type(exc).__name__}); start one with `ray start --head`") from None


def _ray_error(exc) -> str:
    """One line: what killed the task (worker crash, out of memory, or the task's own exception)."""
    cause = getattr(exc, "cause", None)
    if cause is not None and not isinstance(cause, type(exc)):
        return f"{type(cause).__name__}: {str(cause).strip().splitlines()[-1] if str(cause).strip() else ''}"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _process_state() -> dict:
    """What ``ray.init`` may change in the driver process: signal handlers, environment (it sets
    RAY_AUTH_MODE, PYTHONBREAKPOINT, ...), the root and ``ray`` loggers."""
    sigs = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM) if s is not None}
    loggers = {name: (list(logging.getLogger(name).handlers), logging.getLogger(name).level) for name in ("", "ray")}
    return {"signals": sigs, "environ": dict(os.environ), "loggers": loggers}


def _restore(saved: dict | None) -> None:
    if not saved:
        return
    for s, handler in saved["signals"].items():
        with contextlib.suppress(ValueError, TypeError):  # not the main thread / not settable
            signal.signal(s, handler)
    for key in set(os.environ) - set(saved["environ"]):
        del os.environ[key]
    for key, value in saved["environ"].items():
        if os.environ.get(key) != value:
            os.environ[key] = value
    for name, (handlers, level) in saved["loggers"].items():  # ray.init adds a handler bound to today's stderr
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.setLevel(level)


def make_executor(params, payload_bytes: int = 0):
    """The executor ``cv.executor`` names (Ray is imported only for ``ray``)."""
    return RayExecutor(params, payload_bytes) if params.cv.executor == "ray" else LocalExecutor(params)


def payload_size(corpora: list) -> int:
    return sum(int(sum(a.nbytes for a in enc.images.values())) for enc in corpora)
