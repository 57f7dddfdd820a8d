"""Push: write what reconciliation planned into both systems, minimally, in batches, idempotently."""

from .engine import Pusher, PushResult
from ..reconcile.writes import RecordWrite, WritePlan, group_writes, plan_writes, resolve_new_ids

__all__ = ["Pusher", "PushResult", "RecordWrite", "WritePlan", "group_writes", "plan_writes", "resolve_new_ids"]
