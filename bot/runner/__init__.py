"""A small process supervisor, and the tenant assistant's stack built on it.

``Supervisor`` is generic (tests drive it with ``python -c`` children); ``Stack`` knows the
portal, the action server, the Rasa server, training, the database and the dev SMTP sink.
"""

from bot.runner.environment import child_env, settings_env
from bot.runner.errors import (
    PortInUse,
    ProcessDied,
    ProcessExited,
    RunnerError,
    StartupFailed,
    StartupTimeout,
    TrainingFailed,
)
from bot.runner.ports import ensure_port_free, port_is_free
from bot.runner.process import ManagedProcess, read_tail, stop_processes
from bot.runner.spec import ProcessSpec
from bot.runner.stack import Stack, build_specs, service_urls
from bot.runner.supervisor import Supervisor
from bot.runner.training import has_model, train_model

__all__ = [
    "ManagedProcess",
    "PortInUse",
    "ProcessDied",
    "ProcessExited",
    "ProcessSpec",
    "RunnerError",
    "Stack",
    "StartupFailed",
    "StartupTimeout",
    "Supervisor",
    "TrainingFailed",
    "build_specs",
    "child_env",
    "ensure_port_free",
    "has_model",
    "port_is_free",
    "read_tail",
    "service_urls",
    "settings_env",
    "stop_processes",
    "train_model",
]
