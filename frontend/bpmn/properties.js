// The "办理设置" (Jienan) group of the properties panel: what our engine reads beyond plain BPMN.
// The standard BPMN provider stays in charge of name, ID, documentation, timers, signals and the
// like; this provider only adds what it lacks (SpiffWorkflow extensions, script bodies, conditions)
// and swaps two standard fields: the timer value (our engine evaluates it as Python) and, when the
// page passes the engine's signals, the signal select (so it offers them).
import {
  Group,
  SelectEntry,
  TextAreaEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextAreaEntryEdited,
  isTextFieldEntryEdited,
} from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject, is, isAny } from "bpmn-js/lib/util/ModelUtil";

const LOW_PRIORITY = 500; // after the standard BPMN provider, so its groups can be adjusted
const MULTI = "properties-panel.multi-command-executor";
const GATEWAYS = ["bpmn:ExclusiveGateway", "bpmn:InclusiveGateway", "bpmn:ComplexGateway"];

// --- reading and writing spiffworkflow extension elements -------------------------------------

function extensionsOf(businessObject, type) {
  const extensionElements = businessObject.get("extensionElements");
  return extensionElements ? extensionElements.get("values").filter((value) => is(value, type)) : [];
}

function getSpiffProperty(businessObject, name) {
  const [properties] = extensionsOf(businessObject, "spiffworkflow:Properties");
  const property = properties && properties.get("properties").find((p) => p.get("name") === name);
  return property ? property.get("value") : undefined;
}

function getCalledDecisionId(businessObject) {
  const [called] = extensionsOf(businessObject, "spiffworkflow:CalledDecisionId");
  return called ? called.get("value") : undefined;
}

function update(element, moddleElement, properties) {
  return { cmd: "element.updateModdleProperties", context: { element, moddleElement, properties } };
}

/** Commands that make sure `businessObject` has extensionElements; returns [commands, container]. */
function ensureExtensionElements(element, businessObject, bpmnFactory) {
  let extensionElements = businessObject.get("extensionElements");
  if (extensionElements) {
    return [[], extensionElements];
  }
  extensionElements = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
  extensionElements.$parent = businessObject;
  return [[update(element, businessObject, { extensionElements })], extensionElements];
}

/** Commands removing `value` from the extension elements (and them, once empty). */
function removeExtension(element, businessObject, value) {
  const extensionElements = businessObject.get("extensionElements");
  const remaining = extensionElements.get("values").filter((v) => v !== value);
  return remaining.length
    ? [update(element, extensionElements, { values: remaining })]
    : [update(element, businessObject, { extensionElements: undefined })];
}

function setSpiffProperty(element, name, value, { bpmnFactory, commandStack }) {
  const businessObject = getBusinessObject(element);
  const [existing] = extensionsOf(businessObject, "spiffworkflow:Properties");
  const property = existing && existing.get("properties").find((p) => p.get("name") === name);
  const commands = [];

  if (!value) {
    if (!property) {
      return;
    }
    const others = existing.get("properties").filter((p) => p !== property);
    commands.push(
      ...(others.length
        ? [update(element, existing, { properties: others })]
        : removeExtension(element, businessObject, existing)),
    );
  } else if (property) {
    commands.push(update(element, property, { value }));
  } else {
    let properties = existing;
    if (!properties) {
      const [created, extensionElements] = ensureExtensionElements(element, businessObject, bpmnFactory);
      properties = bpmnFactory.create("spiffworkflow:Properties", { properties: [] });
      properties.$parent = extensionElements;
      commands.push(...created, update(element, extensionElements, { values: [...extensionElements.get("values"), properties] }));
    }
    const added = bpmnFactory.create("spiffworkflow:Property", { name, value });
    added.$parent = properties;
    commands.push(update(element, properties, { properties: [...properties.get("properties"), added] }));
  }
  commandStack.execute(MULTI, commands);
}

function setCalledDecisionId(element, value, { bpmnFactory, commandStack }) {
  const businessObject = getBusinessObject(element);
  const [called] = extensionsOf(businessObject, "spiffworkflow:CalledDecisionId");
  if (!value) {
    if (called) {
      commandStack.execute(MULTI, removeExtension(element, businessObject, called));
    }
    return;
  }
  if (called) {
    commandStack.execute(MULTI, [update(element, called, { value })]);
    return;
  }
  const [commands, extensionElements] = ensureExtensionElements(element, businessObject, bpmnFactory);
  const added = bpmnFactory.create("spiffworkflow:CalledDecisionId", { value });
  added.$parent = extensionElements;
  commands.push(update(element, extensionElements, { values: [...extensionElements.get("values"), added] }));
  commandStack.execute(MULTI, commands);
}

/** Select options for `choices` ([{value, label}]), keeping a value that is not among them. */
function withCurrent(choices, current, translate) {
  const options = [{ value: "", label: translate("<none>") }, ...choices];
  if (current && !choices.some((choice) => choice.value === current)) {
    options.push({ value: current, label: translate("(not in the list) {value}", { value: current }) });
  }
  return options;
}

// --- entries -------------------------------------------------------------------------------------

function FormKeyEntry({ element, id }) {
  const services = { bpmnFactory: useService("bpmnFactory"), commandStack: useService("commandStack") };
  const translate = useService("translate");
  const { forms } = useService("config.jienan");
  const businessObject = getBusinessObject(element);
  return SelectEntry({
    element,
    id,
    label: translate("Form"),
    getValue: () => getSpiffProperty(businessObject, "formKey") || "",
    setValue: (value) => setSpiffProperty(element, "formKey", value, services),
    getOptions: () =>
      withCurrent(
        forms.map((form) => ({ value: form.key, label: form.title ? `${form.title}（${form.key}）` : form.key })),
        getSpiffProperty(businessObject, "formKey"),
        translate,
      ),
  });
}

function CaseStatusEntry({ element, id }) {
  const services = { bpmnFactory: useService("bpmnFactory"), commandStack: useService("commandStack") };
  const translate = useService("translate");
  const debounce = useService("debounceInput");
  const businessObject = getBusinessObject(element);
  return TextFieldEntry({
    element,
    id,
    label: translate("Case status"),
    description: translate("Status code written to the case while this task is open, e.g. dispatching."),
    getValue: () => getSpiffProperty(businessObject, "caseStatus") || "",
    setValue: (value) => setSpiffProperty(element, "caseStatus", (value || "").trim(), services),
    debounce,
  });
}

function DecisionEntry({ element, id }) {
  const services = { bpmnFactory: useService("bpmnFactory"), commandStack: useService("commandStack") };
  const translate = useService("translate");
  const { decisions } = useService("config.jienan");
  const businessObject = getBusinessObject(element);
  return SelectEntry({
    element,
    id,
    label: translate("Decision table"),
    getValue: () => getCalledDecisionId(businessObject) || "",
    setValue: (value) => setCalledDecisionId(element, value, services),
    getOptions: () =>
      withCurrent(
        decisions.map((d) => ({ value: d.id, label: d.name ? `${d.name}（${d.id}）` : d.id })),
        getCalledDecisionId(businessObject),
        translate,
      ),
  });
}

function ScriptEntry({ element, id }) {
  const commandStack = useService("commandStack");
  const translate = useService("translate");
  const debounce = useService("debounceInput");
  const businessObject = getBusinessObject(element);
  return TextAreaEntry({
    element,
    id,
    label: translate("Script"),
    description: translate("Python, run by the engine with the case variables in scope."),
    monospace: true,
    rows: 8,
    autoResize: true,
    getValue: () => businessObject.get("script") || "",
    setValue: (value) =>
      commandStack.execute(MULTI, [
        update(element, businessObject, {
          script: value || undefined,
          scriptFormat: businessObject.get("scriptFormat") || "python",
        }),
      ]),
    debounce,
  });
}

function isDefaultFlow(element) {
  const source = element.source && getBusinessObject(element.source);
  return !!source && source.get("default") === getBusinessObject(element);
}

function ConditionEntry({ element, id }) {
  const bpmnFactory = useService("bpmnFactory");
  const commandStack = useService("commandStack");
  const translate = useService("translate");
  const debounce = useService("debounceInput");
  const businessObject = getBusinessObject(element);
  const isDefault = isDefaultFlow(element);

  const setValue = (value) => {
    const expression = businessObject.get("conditionExpression");
    if (!value) {
      commandStack.execute(MULTI, [update(element, businessObject, { conditionExpression: undefined })]);
    } else if (expression) {
      commandStack.execute(MULTI, [update(element, expression, { body: value })]);
    } else {
      const conditionExpression = bpmnFactory.create("bpmn:FormalExpression", { body: value });
      conditionExpression.$parent = businessObject;
      commandStack.execute(MULTI, [update(element, businessObject, { conditionExpression })]);
    }
  };

  return TextAreaEntry({
    element,
    id,
    label: translate("Condition expression"),
    description: isDefault
      ? translate("This is the default flow: it is taken when no other condition holds.")
      : translate("Python expression; the flow is taken when it is true. Leave empty on the default flow."),
    monospace: true,
    rows: 2,
    autoResize: true,
    disabled: isDefault && !businessObject.get("conditionExpression"),
    getValue: () => {
      const expression = businessObject.get("conditionExpression");
      return (expression && expression.get("body")) || "";
    },
    setValue,
    debounce,
  });
}

const TIMER_HELP = {
  timeDate: "Python expression giving an ISO 8601 date-time, e.g. working_days_after(now_iso(), 3).",
  timeDuration: 'Python expression giving an ISO 8601 duration, e.g. "PT4H".',
  timeCycle: 'Python expression giving an ISO 8601 repeating interval, e.g. "R3/PT1H".',
};

/** Replaces the standard timer value field: the engine evaluates it as Python, not as ISO text. */
function TimerExpressionEntry({ element, id, timerEventDefinition, timerEventDefinitionType }) {
  const commandStack = useService("commandStack");
  const translate = useService("translate");
  const debounce = useService("debounceInput");
  const expression = timerEventDefinition.get(timerEventDefinitionType);
  return TextAreaEntry({
    element,
    id,
    label: translate("Timer expression"),
    description: translate(TIMER_HELP[timerEventDefinitionType] || ""),
    monospace: true,
    rows: 2,
    autoResize: true,
    getValue: () => (expression && expression.get("body")) || "",
    setValue: (value) => commandStack.execute(MULTI, [update(element, expression, { body: value })]),
    debounce,
  });
}

function signalDefinitionOf(element) {
  return (getBusinessObject(element).get("eventDefinitions") || []).find((d) => is(d, "bpmn:SignalEventDefinition"));
}

function definitionsOf(moddleElement) {
  let root = moddleElement;
  while (root.$parent) {
    root = root.$parent;
  }
  return root;
}

/** The standard signal select, offering also the engine's signals (options.signals) that this
 * diagram does not define yet; choosing one adds its bpmn:signal. */
function SignalRefEntry({ element, id }) {
  const bpmnFactory = useService("bpmnFactory");
  const commandStack = useService("commandStack");
  const moddle = useService("moddle");
  const translate = useService("translate");
  const { signals } = useService("config.jienan");
  const definition = signalDefinitionOf(element);
  const definitions = definitionsOf(definition);
  const defined = () => definitions.get("rootElements").filter((e) => is(e, "bpmn:Signal"));
  const label = (signal) => (signal.name && signal.name !== signal.id ? `${signal.name}（${signal.id}）` : signal.id);

  const setValue = (value) => {
    const commands = [];
    let signal = defined().find((s) => s.get("id") === value);
    const known = signals.find((s) => s.id === value);
    if (!signal && known) {
      // The id may be taken by another element; the engine matches signals by name anyway.
      const attrs = moddle.ids.assigned(known.id) ? { name: known.name } : { id: known.id, name: known.name };
      signal = bpmnFactory.create("bpmn:Signal", attrs);
      signal.$parent = definitions;
      commands.push(update(element, definitions, { rootElements: [...definitions.get("rootElements"), signal] }));
    }
    commands.push(update(element, definition, { signalRef: signal || undefined }));
    commandStack.execute(MULTI, commands);
  };

  return SelectEntry({
    element,
    id,
    label: translate("Global signal reference"),
    getValue: () => (definition.get("signalRef") ? definition.get("signalRef").get("id") : ""),
    setValue,
    getOptions: () => {
      const options = defined().map((s) => ({ value: s.get("id"), label: label({ id: s.get("id"), name: s.get("name") }) }));
      for (const signal of signals) {
        if (!options.some((option) => option.value === signal.id)) {
          options.push({ value: signal.id, label: label(signal) });
        }
      }
      return [{ value: "", label: translate("<none>") }, ...options];
    },
  });
}

// --- provider ------------------------------------------------------------------------------------

function jienanEntries(element) {
  const businessObject = getBusinessObject(element);
  const entries = [];
  if (is(element, "bpmn:UserTask")) {
    entries.push(
      { id: "jienanFormKey", component: FormKeyEntry, isEdited: isSelectEntryEdited },
      { id: "jienanCaseStatus", component: CaseStatusEntry, isEdited: isTextFieldEntryEdited },
    );
  }
  if (is(element, "bpmn:BusinessRuleTask")) {
    entries.push({ id: "jienanCalledDecision", component: DecisionEntry, isEdited: isSelectEntryEdited });
  }
  if (is(element, "bpmn:ScriptTask")) {
    entries.push({ id: "jienanScript", component: ScriptEntry, isEdited: isTextAreaEntryEdited });
  }
  if (
    is(element, "bpmn:SequenceFlow") &&
    ((element.source && isAny(element.source, GATEWAYS)) || businessObject.get("conditionExpression"))
  ) {
    entries.push({ id: "jienanCondition", component: ConditionEntry, isEdited: isTextAreaEntryEdited });
  }
  return entries;
}

/** Swaps the component of one entry of a standard group. */
function replaceEntry(groups, groupId, entryId, component) {
  const group = groups.find((g) => g.id === groupId);
  if (group) {
    group.entries = group.entries.map((entry) => (entry.id === entryId ? { ...entry, component } : entry));
  }
}

export class JienanPropertiesProvider {
  constructor(propertiesPanel, translate, config) {
    this._translate = translate;
    this._config = config;
    propertiesPanel.registerProvider(LOW_PRIORITY, this);
  }

  getGroups(element) {
    return (groups) => {
      replaceEntry(groups, "timer", "timerEventDefinitionValue", TimerExpressionEntry);
      if (this._config.signals.length) {
        replaceEntry(groups, "signal", "signalRef", SignalRefEntry);
      }

      const entries = jienanEntries(element);
      if (entries.length) {
        const general = groups.findIndex((group) => group.id === "general");
        groups.splice(general + 1, 0, {
          id: "jienan",
          label: this._translate("Case handling"),
          entries,
          component: Group,
        });
      }
      return groups;
    };
  }
}

JienanPropertiesProvider.$inject = ["propertiesPanel", "translate", "config.jienan"];

export default {
  __init__: ["jienanPropertiesProvider"],
  jienanPropertiesProvider: ["type", JienanPropertiesProvider],
};
