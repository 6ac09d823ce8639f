"""The custom search attributes operators filter repairs by in the Temporal UI."""

from __future__ import annotations

from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

PROJECT = SearchAttributeKey.for_keyword("Project")
BUILDING = SearchAttributeKey.for_keyword("Building")
CATEGORY = SearchAttributeKey.for_keyword("Category")
PRIORITY = SearchAttributeKey.for_keyword("Priority")
REPAIR_STATUS = SearchAttributeKey.for_keyword("RepairStatus")
ASSIGNEE = SearchAttributeKey.for_keyword("Assignee")
OVERDUE = SearchAttributeKey.for_bool("Overdue")
WARRANTY_OUTCOME = SearchAttributeKey.for_keyword("WarrantyOutcome")  # free/chargeable/...

ALL = (PROJECT, BUILDING, CATEGORY, PRIORITY, REPAIR_STATUS, ASSIGNEE, OVERDUE,
       WARRANTY_OUTCOME)

async def register_search_attributes(client: Client) -> list[str]:
    """Add the attributes the namespace lacks (idempotent); returns the names added."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        known = set(listed.custom_attributes)
    except RPCError as exc:
        # The time-skipping test server adds attributes but cannot list them.
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    # The SDK's enum shares its numbers with the API's IndexedValueType.
    missing = {key.name: key.indexed_value_type.value for key in ALL if key.name not in known}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )
    return sorted(missing)
