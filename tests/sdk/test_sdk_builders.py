"""StepBuilder and FlowBuilder: exact wire JSON, immutability, local validation."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from argyll import (
    AttributeType,
    BackoffType,
    Client,
    InputCollect,
    ScriptLanguage,
    StepBuilder,
    StepContext,
)
from argyll.errors import StepValidationError
from argyll.model.step import Step


@pytest.fixture
def client() -> Client:
    return Client("http://engine.test")


def wire(step: Step) -> dict[str, Any]:
    """The JSON the engine receives."""
    result: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(step))
    return result


def undo(ctx: StepContext, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
    pass


# -- identity -----------------------------------------------------------------


def test_name_gives_kebab_case_id(client: Client) -> None:
    builder = client.new_step().with_name("Price Calculator")
    assert builder.step_id == "price-calculator"
    assert builder.with_script("{:total 1}").build().id == "price-calculator"


def test_explicit_id_wins_and_is_sanitized(client: Client) -> None:
    builder = client.new_step().with_id("My Step@1").with_name("Price Calculator")
    assert builder.step_id == "my-step1"


def test_script_step_json_is_exact(client: Client) -> None:
    step = (
        client.new_step()
        .with_name("Price Calculator")
        .required("price", AttributeType.NUMBER)
        .required("quantity", AttributeType.NUMBER)
        .optional("discount", AttributeType.NUMBER, "0")
        .output("total", AttributeType.NUMBER)
        .with_script("{:total (- (* price quantity) discount)}")
        .with_label("team", "billing")
        .build()
    )
    assert wire(step) == {
        "id": "price-calculator",
        "name": "Price Calculator",
        "type": "script",
        "attributes": {
            "price": {"role": "required", "type": "number"},
            "quantity": {"role": "required", "type": "number"},
            "discount": {"role": "optional", "type": "number", "optional": {"default": "0"}},
            "total": {"role": "output", "type": "number"},
        },
        "labels": {"team": "billing"},
        "script": {"language": "ale", "script": "{:total (- (* price quantity) discount)}"},
    }


def test_http_step_json_is_exact(client: Client) -> None:
    step = (
        client.new_step()
        .with_id("lookup-customer")
        .with_name("Lookup Customer")
        .required("customer_id", AttributeType.STRING)
        .output("customer", AttributeType.OBJECT)
        .with_endpoint("https://svc/customers/{customer_id}")
        .with_method("get")
        .with_timeout(5000)
        .with_health_check("https://svc/health")
        .with_compensate("https://svc/customers/{customer_id}/undo")
        .with_work_config(
            max_retries=3,
            init_backoff=1000,
            max_backoff=30000,
            backoff_type=BackoffType.EXPONENTIAL,
            parallelism=4,
        )
        .build()
    )
    assert wire(step) == {
        "id": "lookup-customer",
        "name": "Lookup Customer",
        "type": "sync",
        "attributes": {
            "customer_id": {"role": "required", "type": "string"},
            "customer": {"role": "output", "type": "object"},
        },
        "http": {
            "method": "GET",
            "endpoint": "https://svc/customers/{customer_id}",
            "health_check": "https://svc/health",
            "compensate": "https://svc/customers/{customer_id}/undo",
            "timeout": 5000,
        },
        "work_config": {
            "max_retries": 3,
            "init_backoff": 1000,
            "max_backoff": 30000,
            "backoff_type": "exponential",
            "parallelism": 4,
        },
    }


def test_minimal_http_step_always_serializes_endpoint_and_timeout(client: Client) -> None:
    step = client.new_step().with_name("A").with_endpoint("http://svc/a").build()
    assert wire(step) == {
        "id": "a",
        "name": "A",
        "type": "sync",
        "attributes": {},
        "http": {"endpoint": "http://svc/a", "timeout": 0},
    }


def test_labels_merge(client: Client) -> None:
    builder = client.new_step().with_label("a", "1").with_labels({"b": "2", "a": "3"})
    assert builder.step.labels == {"a": "3", "b": "2"}


# -- attributes ---------------------------------------------------------------


def test_attribute_methods_json(client: Client) -> None:
    step = (
        client.new_step()
        .with_name("Attrs")
        .required("items", AttributeType.ARRAY, collect=InputCollect.ALL, inner_name="things")
        .optional(
            "greeting",
            AttributeType.STRING,
            '"hi"',
            collect=InputCollect.LAST,
            deadline=2000,
            inner_name="hello",
        )
        .optional("untyped")
        .required("plain")
        .const("currency", AttributeType.STRING, '"EUR"')
        .meta("flow", "flow_id", AttributeType.STRING)
        .meta("token", "receipt_token")
        .output("result", AttributeType.ANY, inner_name="raw_result")
        .output("other")
        .with_endpoint("http://svc/attrs")
        .build()
    )
    assert wire(step)["attributes"] == {
        "items": {
            "role": "required",
            "type": "array",
            "required": {"collect": "all", "mapping": {"name": "things"}},
        },
        "greeting": {
            "role": "optional",
            "type": "string",
            "optional": {
                "collect": "last",
                "default": '"hi"',
                "deadline": 2000,
                "mapping": {"name": "hello"},
            },
        },
        "untyped": {"role": "optional"},
        "plain": {"role": "required"},
        "currency": {"role": "const", "type": "string", "const": {"value": '"EUR"'}},
        "flow": {"role": "meta", "type": "string", "meta": {"key": "flow_id"}},
        "token": {"role": "meta", "meta": {"key": "receipt_token"}},
        "result": {"role": "output", "type": "any", "output": {"mapping": {"name": "raw_result"}}},
        "other": {"role": "output"},
    }


def test_redeclaring_an_attribute_replaces_it(client: Client) -> None:
    builder = client.new_step().required("x", AttributeType.STRING).output("x")
    assert wire(builder.step)["attributes"] == {"x": {"role": "output"}}


def test_for_each_marks_declared_inputs(client: Client) -> None:
    builder = (
        client.new_step()
        .required("items", AttributeType.ARRAY)
        .optional("extras", AttributeType.ARRAY, "[]")
        .with_for_each("items")
        .with_for_each("extras")
    )
    attrs = wire(builder.step)["attributes"]
    assert attrs["items"] == {"role": "required", "type": "array", "required": {"for_each": True}}
    assert attrs["extras"]["optional"] == {"for_each": True, "default": "[]"}
    keyword = client.new_step().required("items", AttributeType.ARRAY, for_each=True)
    assert keyword.step.attributes["items"] == builder.step.attributes["items"]


@pytest.mark.parametrize("declare", ["none", "output", "const"])
def test_for_each_on_undeclared_or_non_input_raises(client: Client, declare: str) -> None:
    builder = client.new_step()
    if declare == "output":
        builder = builder.output("items")
    elif declare == "const":
        builder = builder.const("items", AttributeType.ARRAY, "[]")
    with pytest.raises(StepValidationError, match='"items"') as info:
        builder.with_for_each("items")
    assert len(info.value.problems) == 1


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (2.5, "2.5"),
        (True, "true"),
        ([1, "a"], '[1,"a"]'),
        ({"k": None}, '{"k":null}'),
        ("5", "5"),  # JSON text, as the original SDK takes it
        ('"guest"', '"guest"'),
        ("guest", '"guest"'),  # not JSON: a plain string
        ("EUR rate", '"EUR rate"'),
    ],
)
def test_optional_and_const_take_plain_values_or_json_text(
    client: Client, value: Any, text: str
) -> None:
    step = (
        client.new_step("T")
        .with_script("1")
        .optional("o", AttributeType.ANY, value)
        .const("c", AttributeType.ANY, value)
        .build()
    )
    assert step.attributes["o"].optional.default == text
    assert step.attributes["c"].const.value == text


def test_optional_without_default_and_unencodable_values(client: Client) -> None:
    builder = client.new_step("T").with_script("1")
    assert builder.optional("o", AttributeType.ANY).step.attributes["o"].optional is None
    assert builder.optional("o", AttributeType.ANY, None).step.attributes["o"].optional is None
    assert builder.const("c", AttributeType.NULL, None).step.attributes["c"].const.value == "null"
    with pytest.raises(TypeError, match="default must be a JSON value"):
        builder.optional("o", AttributeType.ANY, object())
    with pytest.raises(TypeError, match="value must be a JSON value"):
        builder.const("c", AttributeType.ANY, object())


# -- execution types ----------------------------------------------------------


def test_execution_types(client: Client) -> None:
    base = client.new_step().with_name("T")
    assert base.step.type == "sync"
    assert base.with_async_execution().step.type == "async"
    assert base.with_async_execution().with_sync_execution().step.type == "sync"
    lua = base.with_script_language(ScriptLanguage.LUA, "return {x = 1}").build()
    assert wire(lua)["type"] == "script"
    assert wire(lua)["script"] == {"language": "lua", "script": "return {x = 1}"}
    flow = base.with_flow_goals("a", "b").build()
    assert wire(flow)["type"] == "flow"
    assert wire(flow)["flow"] == {"goals": ["a", "b"]}


def test_predicate_and_memoizable(client: Client) -> None:
    step = (
        client.new_step()
        .with_name("P")
        .required("amount", AttributeType.NUMBER)
        .with_predicate(ScriptLanguage.JPATH, "$.amount > 100")
        .with_memoizable()
        .with_script("{:ok true}")
        .build()
    )
    assert wire(step)["predicate"] == {"language": "jpath", "script": "$.amount > 100"}
    assert wire(step)["memoizable"] is True
    plain = client.new_step().with_name("P").with_memoizable().with_memoizable(False)
    assert "memoizable" not in wire(plain.with_script("{:ok true}").build())


def test_work_config_keeps_fields_not_given(client: Client) -> None:
    builder = client.new_step().with_work_config(max_retries=2).with_work_config(parallelism=3)
    assert wire(builder.step)["work_config"] == {"max_retries": 2, "parallelism": 3}
    linear = builder.with_work_config(backoff_type=BackoffType.LINEAR, max_retries=-1)
    assert wire(linear.step)["work_config"] == {
        "max_retries": -1,
        "backoff_type": "linear",
        "parallelism": 3,
    }


def test_with_server_points_step_at_server(client: Client) -> None:
    builder = client.new_step().with_name("Greeter").required("name")
    served = builder.with_server("http://host:9000/").step.http
    assert served is not None
    assert (served.endpoint, served.health_check, served.compensate) == (
        "http://host:9000/greeter",
        "http://host:9000/health",
        "",
    )
    compensating = builder.with_compensate_handler(undo).with_server("http://host:9000").step.http
    assert compensating is not None
    assert compensating.compensate == "http://host:9000/greeter/compensate"
    explicit = (
        builder.with_compensate("http://other/undo")
        .with_compensate_handler(undo)
        .with_server("http://host:9000")
        .step.http
    )
    assert explicit is not None
    assert explicit.compensate == "http://other/undo"


# -- immutability -------------------------------------------------------------


def test_every_method_returns_a_new_builder(client: Client) -> None:
    empty = client.new_step()
    before = wire(empty.step)
    named = empty.with_name("A")
    with_x = named.required("x", AttributeType.STRING)
    with_y = named.required("y", AttributeType.NUMBER)
    assert wire(empty.step) == before
    assert named.step.attributes == {}
    assert set(with_x.step.attributes) == {"x"}
    assert set(with_y.step.attributes) == {"y"}
    labelled = named.with_label("k", "v")
    assert named.step.labels == {}
    assert labelled.step.labels == {"k": "v"}
    http = named.with_endpoint("http://a")
    assert http.with_method("put").step.http != http.step.http
    assert named.step.http is None
    updated = named.update()
    assert (named.for_update, updated.for_update) == (False, True)
    assert named.with_compensate_handler(undo).compensate_handler is undo
    assert named.compensate_handler is None
    with pytest.raises(AttributeError):
        named.step = empty.step  # type: ignore[misc]


def test_new_step_carries_the_client(client: Client) -> None:
    assert client.new_step().client is client
    assert StepBuilder().client is None


# -- build() validation -------------------------------------------------------


def test_empty_builder_lists_every_problem() -> None:
    with pytest.raises(StepValidationError) as info:
        StepBuilder().build()
    problems = info.value.problems
    assert problems[0].startswith("step ID empty")
    assert problems[1].startswith("step name empty")
    assert problems[2].startswith("no execution config")
    assert len(problems) == 3


def test_problems_from_several_stages_are_all_reported(client: Client) -> None:
    builder = (
        client.new_step()
        .with_name("Bad")
        .optional("count", AttributeType.NUMBER, '"three"')
        .meta("m", "")
        .with_endpoint("http://svc/{missing}")
        .with_work_config(init_backoff=5000, max_backoff=10)
    )
    with pytest.raises(StepValidationError) as info:
        builder.build()
    problems = info.value.problems
    assert 'URL contains unknown parameter: "missing"' in problems
    default_problem = 'invalid default value for type for attribute "count"'
    assert any(p.startswith(default_problem) for p in problems)
    assert any(p.startswith("meta key required for meta attribute") for p in problems)
    assert "max_backoff must be >= backoff" in problems
    assert str(info.value).startswith("invalid step bad: ")


def test_memoizable_with_compensation_is_rejected(client: Client) -> None:
    base = client.new_step().with_name("M").with_memoizable().with_endpoint("http://svc/m")
    for builder in (base.with_compensate("http://svc/undo"), base.with_compensate_handler(undo)):
        with pytest.raises(StepValidationError) as info:
            builder.build()
        assert info.value.problems == ["compensate not allowed for memoizable steps"]


def test_conflicting_execution_configs_are_rejected(client: Client) -> None:
    builder = client.new_step().with_name("C").with_script("{:a 1}").with_endpoint("http://x")
    with pytest.raises(StepValidationError, match="http not allowed for step type"):
        builder.build()
    with pytest.raises(StepValidationError, match="script language"):
        client.new_step().with_name("J").with_script_language("python", "1").build()
    # JPATH-4 (revised): jpath is a step script language
    client.new_step().with_name("J").with_script_language(ScriptLanguage.JPATH, "$.a").build()
    with pytest.raises(StepValidationError, match="flow goals required"):
        client.new_step().with_name("F").with_flow_goals().build()


def test_for_each_needs_an_array_type(client: Client) -> None:
    builder = client.new_step().with_name("E").required("n", AttributeType.NUMBER, for_each=True)
    with pytest.raises(StepValidationError, match="for_each processing requires an array"):
        builder.with_endpoint("http://svc/e").build()


# -- FlowBuilder ----------------------------------------------------------------


def test_flow_builder_json(client: Client) -> None:
    flow = (
        client.new_flow("order-123")
        .with_goals("a", "b")
        .with_goal("c")
        .with_initial_state({"x": [1], "items": [["a", "b"]]})
        .with_labels({"team": "ops"})
        .with_label("env", "test")
    )
    assert msgspec.json.decode(msgspec.json.encode(flow.build())) == {
        "id": "order-123",
        "goals": ["a", "b", "c"],
        "init": {"x": [1], "items": [["a", "b"]]},
        "labels": {"team": "ops", "env": "test"},
    }


def test_flow_builder_omits_empty_init_and_labels(client: Client) -> None:
    request = client.new_flow("f").with_goals("a").build()
    assert msgspec.json.decode(msgspec.json.encode(request)) == {"id": "f", "goals": ["a"]}


def test_flow_builder_is_immutable(client: Client) -> None:
    base = client.new_flow("f")
    with_a = base.with_goals("a")
    assert base.goals == ()
    assert with_a.with_goal("b").goals == ("a", "b")
    assert with_a.goals == ("a",)
    assert with_a.with_goals("z").goals == ("z",)
    init = {"x": [1]}
    with_init = base.with_initial_state(init)
    init["x"].append(2)
    assert with_init.init == {"x": [1]}
    assert base.init == {}
    assert base.with_label("k", "v").labels == {"k": "v"}
    assert base.labels == {}


def test_initial_state_values_must_be_lists(client: Client) -> None:
    with pytest.raises(TypeError, match=r"\['name'\]"):
        client.new_flow("f").with_initial_state({"name": "Alice", "ok": ["x"]})  # type: ignore[dict-item]
