"""What a hypothesis can blame: the contract's list of causes (DESIGN.md 5)."""

from __future__ import annotations

from enum import StrEnum


class Cause(StrEnum):
    """Why the blamed component misbehaves (values are a contract of the hypotheses API)."""

    BAD_DEPLOY = "bad_deploy"
    CONFIG_CHANGE = "config_change"
    ERROR_SPIKE = "error_spike"
    LATENCY_REGRESSION = "latency_regression"
    TRAFFIC_SURGE = "traffic_surge"
    CPU_SATURATION = "cpu_saturation"
    MEMORY_PRESSURE = "memory_pressure"
    DISK_FULL = "disk_full"
    NETWORK_DELAY = "network_delay"
    DEPENDENCY_FAILURE = "dependency_failure"
    DB_SATURATION = "db_saturation"
    CONNECTION_POOL_EXHAUSTION = "connection_pool_exhaustion"
    CRASHLOOP = "crashloop"
    CERT_EXPIRY = "cert_expiry"
    OTHER = "other"
