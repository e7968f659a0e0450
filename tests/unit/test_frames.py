"""OCPP-J frame classification."""

from __future__ import annotations

from volthub.ocpp.frames import BadFrame, Call, CallError, CallResult, parse_frame


def test_call_result_and_error_are_recognised() -> None:
    assert parse_frame('[2,"a","Heartbeat",{}]') == Call("a", "Heartbeat", {})
    assert parse_frame('[3,"a",{"x":1}]') == CallResult("a", {"x": 1})
    assert parse_frame('[4,"a","GenericError","d",{}]') == CallError("a", "GenericError", "d", {})


def test_invalid_json_keeps_a_readable_message_id() -> None:
    frame = parse_frame('[2,"abc","Heartbeat",{')
    assert isinstance(frame, BadFrame) and frame.kind == "format" and frame.message_id == "abc"
    frame = parse_frame("garbage")
    assert isinstance(frame, BadFrame) and frame.message_id == "-1"


def test_wrong_shapes_are_format_errors() -> None:
    for text in ('{"a":1}', "[2]", '[2,5,"Heartbeat",{}]', '[2,"a","Heartbeat",[]]',
                 '[2,"a","Heartbeat"]', '[3,"a"]', '[4,"a","X"]', '[2,"' + "x" * 37 + '","H",{}]'):
        frame = parse_frame(text)
        assert isinstance(frame, BadFrame) and frame.kind == "format", text


def test_unknown_message_type_is_its_own_kind() -> None:
    frame = parse_frame('[7,"a","Heartbeat",{}]')
    assert isinstance(frame, BadFrame) and frame.kind == "message_type" and frame.message_id == "a"
