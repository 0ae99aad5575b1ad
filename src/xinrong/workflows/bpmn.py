"""Read and check BPMN 2.0 process files: the elements, lanes and paths an approval is made of.

A version may be activated only when :func:`validate` finds nothing wrong: SpiffWorkflow parses
it; every lane maps to at least one role or person; every user task lies in a lane and can be
reached from the start event; every element reaches an end event; and every condition on a
gateway's branch is a plain expression over the process's declared variables that evaluates.
Each problem names the element by its name and id, in Chinese, and all of them are reported at once.

Conditions are evaluated by a restricted environment (:class:`SafeEnvironment`): comparisons,
``and``/``or``/``not``, arithmetic, ``in`` and ``startswith``/``endswith`` on declared variables;
no builtins, no other attribute or call: an operator's process can route, not run code.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.exceptions import SpiffWorkflowException

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN_NS}

# The flow nodes an approval process may use; anything else is refused by the check.
SUPPORTED = {
    "startEvent": gettext_lazy("开始事件"),
    "endEvent": gettext_lazy("结束事件"),
    "userTask": gettext_lazy("人工审批任务"),
    "task": gettext_lazy("任务"),
    "exclusiveGateway": gettext_lazy("排他网关"),
    "parallelGateway": gettext_lazy("并行网关"),
}
# Elements that are drawn but do not run (they are ignored, not refused).
DECORATIONS = {"textAnnotation", "association", "group", "laneSet", "lane", "sequenceFlow"}


class BpmnReadError(Exception):
    """The text is not a BPMN process file we can read (the message is Chinese)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a process version, naming the element."""

    element_id: str
    element_name: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """Return the problem as stored in the version's validation report."""
        return {"id": self.element_id, "name": self.element_name, "message": self.message}


@dataclass
class Node:
    """A flow node (event, task, gateway) of the process."""

    id: str
    name: str
    tag: str
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)
    default_flow: str = ""
    has_event_definition: bool = False


@dataclass
class Flow:
    """A sequence flow between two nodes, with its condition if any."""

    id: str
    name: str
    source: str
    target: str
    condition: str = ""


@dataclass
class Lane:
    """A lane (swimlane): who does the tasks drawn in it."""

    id: str
    name: str
    node_ids: list[str] = field(default_factory=list)


@dataclass
class ProcessModel:
    """The parts of one executable process, read from the XML."""

    process_id: str
    process_name: str
    nodes: dict[str, Node]
    flows: dict[str, Flow]
    lanes: dict[str, Lane]
    lane_of: dict[str, str]
    unsupported: list[Node]

    def label(self, element_id: str) -> str:
        """Return the element's name, or its id when it has none."""
        element = self.nodes.get(element_id) or self.flows.get(element_id)
        name = element.name if element is not None else ""
        return name or element_id

    @property
    def user_tasks(self) -> list[Node]:
        """Return the user tasks, in document order."""
        return [n for n in self.nodes.values() if n.tag == "userTask"]


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _parse_xml(xml: str) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(xml.encode("utf-8"), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise BpmnReadError(_("BPMN 文件不是合法的 XML：%(error)s") % {"error": exc}) from exc
    if root.getroottree().docinfo.doctype:
        raise BpmnReadError(_("BPMN 文件不能带 DOCTYPE 声明（不允许实体定义）"))
    return root


def read(xml: str) -> ProcessModel:
    """Read the one executable process of a BPMN file (raise BpmnReadError in Chinese)."""
    if not xml or not xml.strip():
        raise BpmnReadError(_("BPMN 定义为空"))
    root = _parse_xml(xml)
    if _local(root.tag) != "definitions" or etree.QName(root.tag).namespace != BPMN_NS:
        raise BpmnReadError(_("不是 BPMN 2.0 文件：根元素应为 bpmn:definitions"))
    processes = root.findall("bpmn:process", NS)
    if len(processes) != 1:
        raise BpmnReadError(
            _("BPMN 文件应恰好包含一个流程（process），实际为 %(n)d 个") % {"n": len(processes)}
        )
    process = processes[0]
    nodes: dict[str, Node] = {}
    flows: dict[str, Flow] = {}
    unsupported: list[Node] = []
    for element in process:
        tag = _local(element.tag)
        element_id = element.get("id", "")
        name = (element.get("name") or "").strip()
        if tag == "sequenceFlow":
            condition = element.find("bpmn:conditionExpression", NS)
            flows[element_id] = Flow(
                id=element_id,
                name=name,
                source=element.get("sourceRef", ""),
                target=element.get("targetRef", ""),
                condition=(condition.text or "").strip() if condition is not None else "",
            )
        elif tag in SUPPORTED:
            nodes[element_id] = Node(
                id=element_id,
                name=name,
                tag=tag,
                default_flow=element.get("default", ""),
                has_event_definition=any(
                    _local(child.tag).endswith("EventDefinition") for child in element
                ),
            )
        elif tag and tag not in DECORATIONS and tag not in ("extensionElements", "documentation"):
            unsupported.append(Node(id=element_id, name=name, tag=tag))
    for flow in flows.values():
        if flow.source in nodes:
            nodes[flow.source].outgoing.append(flow.id)
        if flow.target in nodes:
            nodes[flow.target].incoming.append(flow.id)
    lanes: dict[str, Lane] = {}
    lane_of: dict[str, str] = {}
    for lane_el in process.iter(f"{{{BPMN_NS}}}lane"):
        if lane_el.find("bpmn:childLaneSet", NS) is not None:
            continue  # a lane split into sub-lanes: the sub-lanes hold the tasks
        lane = Lane(id=lane_el.get("id", ""), name=(lane_el.get("name") or "").strip())
        for ref in lane_el.findall("bpmn:flowNodeRef", NS):
            node_id = (ref.text or "").strip()
            lane.node_ids.append(node_id)
            lane_of[node_id] = lane.id
        lanes[lane.id] = lane
    # lanes in the order they are drawn (top to bottom), not the order they were added
    tops: dict[str, float] = {}
    for shape in root.iter("{http://www.omg.org/spec/BPMN/20100524/DI}BPMNShape"):
        bounds = shape.find("{http://www.omg.org/spec/DD/20100524/DC}Bounds")
        if shape.get("bpmnElement") in lanes and bounds is not None:
            try:
                tops[shape.get("bpmnElement", "")] = float(bounds.get("y", "0"))
            except ValueError:
                continue
    lanes = dict(sorted(lanes.items(), key=lambda item: tops.get(item[0], 0.0)))
    return ProcessModel(
        process_id=process.get("id", ""),
        process_name=(process.get("name") or "").strip(),
        nodes=nodes,
        flows=flows,
        lanes=lanes,
        lane_of=lane_of,
        unsupported=unsupported,
    )


# --- conditions -----------------------------------------------------------------------------

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Mod,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Tuple,
    ast.List,
    ast.Call,
    ast.Attribute,
)
_METHODS = {"startswith", "endswith"}


class ConditionError(Exception):
    """A condition is not a plain expression over declared variables (Chinese message)."""


def condition_names(expression: str) -> set[str]:
    """Return the variable names a condition uses; raise ConditionError if it is not allowed."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ConditionError(
            _("条件「%(expr)s」不是合法的表达式（第 %(col)s 个字符附近）")
            % {"expr": expression, "col": exc.offset or "?"}
        ) from exc
    names: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ConditionError(
                _("条件「%(expr)s」含有不允许的写法：%(what)s；只能使用比较、与或非、算术和 in")
                % {"expr": expression, "what": type(node).__name__}
            )
        if isinstance(node, ast.Call):
            func = node.func
            if not (
                isinstance(func, ast.Attribute)
                and func.attr in _METHODS
                and isinstance(func.value, ast.Name)
                and not node.keywords
                and all(isinstance(arg, ast.Constant) for arg in node.args)
            ):
                raise ConditionError(
                    _(
                        "条件「%(expr)s」只能调用变量的 startswith/endswith，"
                        '例如 division_code.startswith("6301")'
                    )
                    % {"expr": expression}
                )
        elif isinstance(node, ast.Attribute):
            if node.attr not in _METHODS:
                raise ConditionError(
                    _("条件「%(expr)s」不能读取属性 %(attr)s")
                    % {"expr": expression, "attr": node.attr}
                )
        elif isinstance(node, ast.Name):
            names.add(node.id)
    return names


def condition_evaluate(expression: str, variables: Mapping[str, Any]) -> Any:
    """Evaluate a checked condition with the given variables (no builtins)."""
    condition_names(expression)
    code = compile(ast.parse(expression, mode="eval"), "<condition>", "eval")
    return eval(code, {"__builtins__": {}}, dict(variables))  # noqa: S307 (checked AST above)


class SafeEnvironment(TaskDataEnvironment):  # type: ignore[misc]
    """Spiff's expression environment, restricted to the checked condition language."""

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: Any = None
    ) -> Any:
        try:
            return condition_evaluate(expression, context)
        except ConditionError as exc:
            raise SpiffWorkflowException(str(exc)) from exc

    def execute(self, script: str, context: dict[str, Any], external_context: Any = None) -> bool:
        raise SpiffWorkflowException(_("审批流程不运行脚本"))


def script_engine() -> PythonScriptEngine:
    """Return the engine that evaluates conditions for the platform's processes."""
    return PythonScriptEngine(environment=SafeEnvironment())


# --- parsing with SpiffWorkflow -------------------------------------------------------------


def spec_parse(xml: str) -> BpmnProcessSpec:
    """Parse the process with SpiffWorkflow (raise BpmnReadError in Chinese)."""
    model = read(xml)
    parser = BpmnParser()
    try:
        parser.add_bpmn_xml(_parse_xml(xml))  # our parser: no entities, no network
        return parser.get_spec(model.process_id)
    except ValidationException as exc:
        element = exc.name or exc.id or exc.tag
        raise BpmnReadError(
            _("流程引擎无法解析「%(element)s」（%(id)s）：%(error)s")
            % {"element": element, "id": exc.id, "error": exc}
        ) from exc
    except (SpiffWorkflowException, etree.LxmlError, KeyError, ValueError) as exc:
        raise BpmnReadError(_("流程引擎无法解析该流程：%(error)s") % {"error": exc}) from exc


# --- validation ----------------------------------------------------------------------------


def _reachable(start: Iterable[str], step: Mapping[str, Iterable[str]]) -> set[str]:
    seen = set(start)
    queue = deque(seen)
    while queue:
        current = queue.popleft()
        for nxt in step.get(current, ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def lane_is_mapped(entry: Mapping[str, Any] | None) -> bool:
    """Return True if a lane's mapping names at least one role or person."""
    return bool(entry and (entry.get("roles") or entry.get("users")))


def validate(
    xml: str,
    *,
    lane_map: Mapping[str, Mapping[str, Any]],
    variables: Mapping[str, Any],
    known_roles: Iterable[str] = (),
) -> list[Problem]:
    """Return every problem of a process version (empty when it may be activated)."""
    try:
        model = read(xml)
    except BpmnReadError as exc:
        return [Problem("", "", str(exc))]
    problems: list[Problem] = []

    def add(element_id: str, message: str, **kw: Any) -> None:
        name = model.label(element_id) if element_id else ""
        problems.append(Problem(element_id, name, message % {"el": _el(name, element_id), **kw}))

    try:
        spec_parse(xml)
    except BpmnReadError as exc:
        problems.append(Problem("", "", str(exc)))

    for node in model.unsupported:
        problems.append(
            Problem(
                node.id,
                node.name,
                _(
                    "「%(name)s」（%(id)s）是 %(tag)s，审批流程不支持这种元素；"
                    "请改用人工审批任务或网关"
                )
                % {"name": node.name or node.id, "id": node.id, "tag": node.tag},
            )
        )
    starts = [n for n in model.nodes.values() if n.tag == "startEvent"]
    ends = [n for n in model.nodes.values() if n.tag == "endEvent"]
    if len(starts) != 1:
        problems.append(
            Problem("", "", _("流程应恰好有一个开始事件，实际为 %(n)d 个") % {"n": len(starts)})
        )
    if not ends:
        problems.append(Problem("", "", _("流程没有结束事件")))

    # lanes and their mapping
    roles_known = set(known_roles)
    if not model.lanes:
        problems.append(Problem("", "", _("流程没有泳道：请用泳道划分由谁审批")))
    for lane in model.lanes.values():
        entry = lane_map.get(lane.id)
        if not lane_is_mapped(entry):
            problems.append(
                Problem(
                    lane.id,
                    lane.name,
                    _("泳道%(el)s尚未配置办理人：请至少选择一个角色或指定人员")
                    % {"el": _el(lane.name, lane.id)},
                )
            )
        elif roles_known:
            for role in (entry or {}).get("roles", []):
                if role not in roles_known:
                    problems.append(
                        Problem(
                            lane.id,
                            lane.name,
                            _("泳道%(el)s的角色「%(role)s」不存在")
                            % {"el": _el(lane.name, lane.id), "role": role},
                        )
                    )

    # flows that hang in the air
    for flow in model.flows.values():
        if flow.source not in model.nodes or flow.target not in model.nodes:
            add(flow.id, _("连线%(el)s没有连到两个节点上（起点或终点缺失）"))

    successors: dict[str, list[str]] = {
        n.id: [model.flows[f].target for f in n.outgoing if model.flows[f].target in model.nodes]
        for n in model.nodes.values()
    }
    predecessors: dict[str, list[str]] = {n.id: [] for n in model.nodes.values()}
    for source, targets in successors.items():
        for target in targets:
            predecessors[target].append(source)
    reachable = _reachable([s.id for s in starts], successors)
    reaches_end = _reachable([e.id for e in ends], predecessors)

    for node in model.nodes.values():
        if node.tag == "userTask" and node.id not in model.lane_of:
            add(node.id, _("任务%(el)s不在任何泳道中：请把它放进一个泳道"))
        if node.tag == "startEvent" and node.has_event_definition:
            add(node.id, _("开始事件%(el)s须为普通开始事件（不带消息、定时等触发条件）"))
        if node.tag != "startEvent" and node.id not in reachable and starts:
            add(node.id, _("节点%(el)s从开始事件无法到达"))
        if node.tag != "endEvent" and not node.outgoing:
            add(node.id, _("节点%(el)s没有出口：每条路径都必须走到结束事件"))
        elif node.tag != "endEvent" and node.id not in reaches_end and ends:
            add(node.id, _("节点%(el)s之后的路径走不到结束事件"))
        if node.tag == "endEvent" and node.outgoing:
            add(node.id, _("结束事件%(el)s不能再有出口"))

    # conditions
    declared = dict(variables)
    for node in model.nodes.values():
        outgoing = [model.flows[f] for f in node.outgoing]
        if node.tag == "exclusiveGateway" and len(outgoing) > 1:
            for flow in outgoing:
                if flow.id == node.default_flow:
                    continue
                if not flow.condition:
                    add(
                        flow.id,
                        _("网关「%(gw)s」的分支%(el)s没有条件：请填写条件或设为默认分支"),
                        gw=model.label(node.id),
                    )
                    continue
                problems.extend(_condition_problems(model, flow, declared))
        else:
            for flow in outgoing:
                if flow.condition and node.tag != "exclusiveGateway":
                    add(flow.id, _("连线%(el)s带有条件，但只有排他网关的分支可以设置条件"))
                elif flow.condition:
                    problems.extend(_condition_problems(model, flow, declared))
    return problems


def _el(name: str, element_id: str) -> str:
    """Name an element in a message by its name, never by its id (clerks do not see ids).

    The problem carries the id; the editor's problem list locates the element in the diagram.
    """
    return f"「{name}」" if name else str(_("（未命名）"))


def _condition_problems(
    model: ProcessModel, flow: Flow, declared: Mapping[str, Any]
) -> list[Problem]:
    label = _el(flow.name, flow.id)
    try:
        names = condition_names(flow.condition)
    except ConditionError as exc:
        return [
            Problem(flow.id, flow.name, _("分支%(el)s：%(error)s") % {"el": label, "error": exc})
        ]
    unknown = sorted(names - set(declared))
    if unknown:
        return [
            Problem(
                flow.id,
                flow.name,
                _("分支%(el)s的条件用到了未声明的变量 %(names)s；可用变量：%(known)s")
                % {
                    "el": label,
                    "names": "、".join(unknown),
                    "known": "、".join(sorted(declared)) or _("无"),
                },
            )
        ]
    try:
        condition_evaluate(flow.condition, declared)
    except Exception as exc:  # a type error with the sample values: reported, not raised
        return [
            Problem(
                flow.id,
                flow.name,
                _("分支%(el)s的条件「%(expr)s」无法计算：%(error)s")
                % {"el": label, "expr": flow.condition, "error": exc},
            )
        ]
    return []
