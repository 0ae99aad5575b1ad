"""Edit BPMN XML in tests the way the modeler would (rewire a flow, drop a lane reference)."""

from __future__ import annotations

from lxml import etree

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


def _tree(xml: str) -> etree._Element:
    return etree.fromstring(xml.encode("utf-8"))


def _text(root: etree._Element) -> str:
    return etree.tostring(root, encoding="unicode")


def retarget(xml: str, flow_id: str, target: str) -> str:
    """Point a sequence flow at another node (incoming lists follow)."""
    root = _tree(xml)
    flow = root.find(f".//bpmn:sequenceFlow[@id='{flow_id}']", NS)
    old = flow.get("targetRef")
    flow.set("targetRef", target)
    for inc in root.findall(f".//*[@id='{old}']/bpmn:incoming", NS):
        if inc.text == flow_id:
            inc.getparent().remove(inc)
    node = root.find(f".//*[@id='{target}']", NS)
    inc = etree.SubElement(node, f"{{{NS['bpmn']}}}incoming")
    inc.text = flow_id
    return _text(root)


def set_condition(xml: str, flow_id: str, condition: str) -> str:
    """Replace a flow's condition ('' removes it)."""
    root = _tree(xml)
    flow = root.find(f".//bpmn:sequenceFlow[@id='{flow_id}']", NS)
    for old in flow.findall("bpmn:conditionExpression", NS):
        flow.remove(old)
    if condition:
        etree.SubElement(flow, f"{{{NS['bpmn']}}}conditionExpression").text = condition
    return _text(root)


def remove(xml: str, element_id: str) -> str:
    """Remove an element (and its lane reference) from the process."""
    root = _tree(xml)
    for el in root.findall(f".//*[@id='{element_id}']", NS):
        el.getparent().remove(el)
    for ref in root.findall(".//bpmn:flowNodeRef", NS):
        if ref.text == element_id:
            ref.getparent().remove(ref)
    return _text(root)


def unlane(xml: str, node_id: str) -> str:
    """Take a node out of its lane."""
    root = _tree(xml)
    for ref in root.findall(".//bpmn:flowNodeRef", NS):
        if ref.text == node_id:
            ref.getparent().remove(ref)
    return _text(root)


def add_user_task(xml: str, task_id: str, name: str, *, lane: str, after_flow: str) -> str:
    """Insert a user task on a flow: the flow now ends at the task, a new flow leaves it."""
    root = _tree(xml)
    flow = root.find(f".//bpmn:sequenceFlow[@id='{after_flow}']", NS)
    old_target = flow.get("targetRef")
    process = root.find("bpmn:process", NS)
    task = etree.SubElement(process, f"{{{NS['bpmn']}}}userTask", id=task_id, name=name)
    out_id = f"flow_{task_id}_out"
    etree.SubElement(
        process,
        f"{{{NS['bpmn']}}}sequenceFlow",
        id=out_id,
        sourceRef=task_id,
        targetRef=old_target,
    )
    etree.SubElement(task, f"{{{NS['bpmn']}}}outgoing").text = out_id
    target = root.find(f".//*[@id='{old_target}']", NS)
    etree.SubElement(target, f"{{{NS['bpmn']}}}incoming").text = out_id
    lane_el = root.find(f".//bpmn:lane[@id='{lane}']", NS)
    if lane_el is None:
        lane_set = root.find(".//bpmn:laneSet", NS)
        lane_el = etree.SubElement(lane_set, f"{{{NS['bpmn']}}}lane", id=lane, name=name)
    etree.SubElement(lane_el, f"{{{NS['bpmn']}}}flowNodeRef").text = task_id
    return retarget(_text(root), after_flow, task_id)
