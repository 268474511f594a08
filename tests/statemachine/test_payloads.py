"""A task's payload is its model's fields, checked while the definition is built: a field one side has
and the other lacks fails the synthesis, not a run."""

import pytest
from aws_cdk import aws_stepfunctions as sfn

from common.tasks import Edit, ExecutionStart
from statemachine.payloads import fields_of


def test_a_payload_missing_a_field_of_its_model_or_giving_one_it_lacks_fails_the_synthesis() -> None:
    mode = sfn.JsonPath.string_at("$.request.mode")
    with pytest.raises(ValueError, match=r"^the payload for Edit is not its fields: \[\] not in the model, \['mask"):
        fields_of(Edit, mode=mode, source_image=sfn.JsonPath.object_at("$.request.source_image"))
    with pytest.raises(ValueError, match=r"\['strength'\] not in the model, \[\] not given$"):
        fields_of(Edit, mode=mode, source_image=None, mask_image=None, strength=0.5)


def test_a_payload_may_leave_out_an_optional_field_by_none_but_never_a_required_one() -> None:
    assert fields_of(ExecutionStart, id="arn", name="run-1", started_at=None) == {"id": "arn", "name": "run-1"}
    with pytest.raises(ValueError, match=r"^the payload for ExecutionStart leaves out required fields: \['name'\]$"):
        fields_of(ExecutionStart, id="arn", name=None, started_at=None)
