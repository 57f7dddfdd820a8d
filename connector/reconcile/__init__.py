"""The pure reconciliation core: mapping files, transforms, conflict rules, identity, planning.

No I/O except reading mapping files. Typical use::

    mappings = load_mappings("mappings")
    result = reconcile(records, mappings.contacts, links=stored_links, owners=owner_directory)
    result.changes      # FieldChanges per system; result.people has provenance per field

``COMPILED`` says whether the hot modules were compiled at install time (``CONNECTOR_COMPILE=1``,
see setup.py); the results are the same either way.
"""

from importlib.machinery import EXTENSION_SUFFIXES

from . import resolve as _resolve_module
from .engine import ReconcileResult, reconcile, reconcile_group
from .errors import MappingError, MappingProblem, ReconcileError, TransformError
from .identity import Duplicate, IdentityResult, PersonGroup, resolve_identities
from .loader import (load_companies, load_contacts, load_mappings, load_opportunities, parse_companies, parse_contacts,
                     parse_opportunities)
from .mapping import CompanyMapping, ContactMapping, FieldMapping, Mappings, OpportunityMapping
from .plan import plan_person, plan_updates, salesforce_object_for, should_create_in_salesforce
from .records import (
    FieldChange,
    Issue,
    NewRecordId,
    OwnerDirectory,
    Provenance,
    RecordKey,
    SourceRecord,
    UnifiedPerson,
)
from .resolve import ResolvedField, resolve_fields
from .rules import RULES, Candidate, Decision, RuleContext
from .transforms import TransformContext

#: whether this installation runs the compiled reconciliation core (same results, about 30% fewer instructions)
COMPILED: bool = str(getattr(_resolve_module, "__file__", "")).endswith(tuple(EXTENSION_SUFFIXES))

__all__ = [
    "COMPILED",
    "Candidate",
    "CompanyMapping",
    "ContactMapping",
    "Decision",
    "Duplicate",
    "FieldChange",
    "FieldMapping",
    "IdentityResult",
    "Issue",
    "MappingError",
    "MappingProblem",
    "Mappings",
    "NewRecordId",
    "OpportunityMapping",
    "OwnerDirectory",
    "PersonGroup",
    "Provenance",
    "RULES",
    "ReconcileError",
    "ReconcileResult",
    "RecordKey",
    "ResolvedField",
    "RuleContext",
    "SourceRecord",
    "TransformContext",
    "TransformError",
    "UnifiedPerson",
    "load_companies",
    "load_contacts",
    "load_mappings",
    "load_opportunities",
    "parse_companies",
    "parse_contacts",
    "parse_opportunities",
    "plan_person",
    "plan_updates",
    "reconcile",
    "reconcile_group",
    "resolve_fields",
    "resolve_identities",
    "salesforce_object_for",
    "should_create_in_salesforce",
]
