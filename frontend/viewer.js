// The read-only process map of a case: window.Jienan.viewer.mount(el, options).
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import { is, isAny } from "bpmn-js/lib/util/ModelUtil";

import { textRenderer } from "./bpmn/fonts.js";
import { readableZoom } from "./bpmn/viewport.js";
import zh from "./i18n/bpmn-zh.js";
import { jienanGlobal, resolveLang, translateModule } from "./i18n/translate.js";
import spiffworkflow from "./spiffworkflow-moddle.json";

const COMPLETED = "jienan-completed";
const CURRENT = "jienan-current";
const CLICKABLE = "jienan-clickable";
const CLICKABLE_TYPES = ["bpmn:Activity", "bpmn:Event", "bpmn:Gateway"];

/**
 * options: { xml, completed: [element ids], current: [element ids], lang, onElementClick(id, name) }
 * Returns { ready, highlight(completed, current), destroy() }; `ready` settles after the import.
 */
function mount(el, options = {}) {
  const lang = resolveLang(options.lang);
  el.classList.add("jienan-viewer");
  const viewer = new NavigatedViewer({
    container: el,
    additionalModules: lang === "zh" ? [translateModule(zh)] : [],
    moddleExtensions: { spiffworkflow },
    textRenderer,
  });
  const canvas = viewer.get("canvas");
  const elementRegistry = viewer.get("elementRegistry");
  let marked = [];
  // What to show; kept so that a highlight() before the import finishes is not lost.
  let state = { completed: options.completed || [], current: options.current || [] };

  function isClickable(element) {
    return !!element && element.type !== "label" && !element.waypoints && isAny(element, CLICKABLE_TYPES);
  }

  function mark(id, marker) {
    if (id && elementRegistry.get(id)) {
      canvas.addMarker(id, marker);
      marked.push([id, marker]);
    }
  }

  /**
   * Greys out what is done and outlines what is open. When `completed` names no sequence flows,
   * flows between two reached elements count as taken, so the path reads as one line.
   */
  function highlight(completed = [], current = []) {
    state = { completed: completed || [], current: current || [] };
    for (const [id, marker] of marked) {
      if (elementRegistry.get(id)) {
        canvas.removeMarker(id, marker);
      }
    }
    marked = [];
    const done = new Set(state.completed);
    const open = new Set(state.current);
    done.forEach((id) => mark(id, COMPLETED));
    open.forEach((id) => mark(id, CURRENT));

    const flowsGiven = [...done].some((id) => {
      const element = elementRegistry.get(id);
      return element && is(element, "bpmn:SequenceFlow");
    });
    if (!flowsGiven) {
      elementRegistry
        .filter((element) => is(element, "bpmn:SequenceFlow") && element.type !== "label")
        .forEach((flow) => {
          const source = flow.source && flow.source.id;
          const target = flow.target && flow.target.id;
          if (done.has(source) && (done.has(target) || open.has(target))) {
            mark(flow.id, COMPLETED);
          }
        });
    }
  }

  async function importXML(xml) {
    await viewer.importXML(xml);
    marked = [];
    const focus = state.current.length ? state.current : state.completed;
    readableZoom(canvas, focus.map((id) => elementRegistry.get(id)));
    if (options.onElementClick) {
      elementRegistry.filter(isClickable).forEach((element) => canvas.addMarker(element, CLICKABLE));
    }
    highlight(state.completed, state.current);
  }

  if (options.onElementClick) {
    viewer.get("eventBus").on("element.click", (event) => {
      let element = event.element;
      if (element && element.type === "label") {
        element = element.labelTarget;
      }
      if (isClickable(element)) {
        options.onElementClick(element.id, element.businessObject.name || "");
      }
    });
  }

  return {
    ready: importXML(options.xml || ""),
    highlight,
    destroy() {
      viewer.destroy();
      el.classList.remove("jienan-viewer");
    },
    bpmnjs: viewer,
  };
}

jienanGlobal().viewer = { mount };
