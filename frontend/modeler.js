// The BPMN editor bundle: window.Jienan.modeler.mount(canvasEl, propertiesEl, options).
import Modeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";

import { textRenderer } from "./bpmn/fonts.js";
import jienanPropertiesModule from "./bpmn/properties.js";
import { centerOn, readableZoom } from "./bpmn/viewport.js";
import zh from "./i18n/bpmn-zh.js";
import { jienanGlobal, resolveLang, translateModule } from "./i18n/translate.js";
import spiffworkflow from "./spiffworkflow-moddle.json";

const PROBLEM = "jienan-problem";

/** Resolves after the next frame (or 100 ms where frames are throttled). The properties panel
 * subscribes to selection changes in Preact effects, which run then; without waiting, a
 * selectElement() right after an import would be missed by the panel. */
function afterPaint() {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      setTimeout(resolve, 0);
    };
    const timer = setTimeout(done, 100);
    requestAnimationFrame(done);
  });
}

/**
 * Mounts the modeler with its properties panel.
 *
 * options: { xml, lang: "zh"|"en", forms: [{key, title}], decisions: [{id, name}],
 *            signals: [{id, name}] (or names) the engine knows, offered on signal events }
 * Returns a controller; `controller.ready` settles once the initial XML is imported.
 */
function mount(canvasEl, propertiesEl, options = {}) {
  const lang = resolveLang(options.lang);
  canvasEl.classList.add("jienan-modeler-canvas");
  propertiesEl.classList.add("jienan-properties");

  const modeler = new Modeler({
    container: canvasEl,
    propertiesPanel: { parent: propertiesEl },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      jienanPropertiesModule,
      ...(lang === "zh" ? [translateModule(zh)] : []),
    ],
    moddleExtensions: { spiffworkflow },
    textRenderer,
    jienan: {
      forms: options.forms || [],
      decisions: options.decisions || [],
      signals: (options.signals || []).map((s) => (typeof s === "string" ? { id: s, name: s } : s)),
    },
  });

  const canvas = modeler.get("canvas");
  const elementRegistry = modeler.get("elementRegistry");
  const eventBus = modeler.get("eventBus");
  const overlays = modeler.get("overlays");
  const translate = modeler.get("translate");
  let pinned = [];

  async function importXML(xml) {
    const result = await modeler.importXML(xml);
    pinned = [];
    readableZoom(canvas, [], 80);
    await afterPaint();
    return { warnings: result.warnings };
  }

  function selectElement(id) {
    const element = id && elementRegistry.get(id);
    if (!element) {
      return false;
    }
    modeler.get("selection").select(element);
    centerOn(canvas, element);
    return true;
  }

  function clearProblems() {
    overlays.remove({ type: PROBLEM });
    for (const id of pinned) {
      if (elementRegistry.get(id)) {
        canvas.removeMarker(id, PROBLEM);
      }
    }
    pinned = [];
  }

  /**
   * Pins [{element_id, message}] on their elements: a red outline and a badge with the count whose
   * tooltip lists the messages. Returns the problems that belong to no element on the canvas, so
   * the page can list them elsewhere.
   */
  function showProblems(problems) {
    clearProblems();
    const byElement = new Map();
    const unpinned = [];
    for (const problem of problems || []) {
      const id = problem && problem.element_id;
      if (!id || !elementRegistry.get(id) || elementRegistry.get(id).type === "label") {
        unpinned.push(problem);
        continue;
      }
      if (!byElement.has(id)) {
        byElement.set(id, []);
      }
      byElement.get(id).push(String(problem.message || ""));
    }
    for (const [id, messages] of byElement) {
      canvas.addMarker(id, PROBLEM);
      const badge = document.createElement("button");
      badge.type = "button";
      badge.className = "jienan-problem-badge";
      badge.textContent = String(messages.length);
      badge.title = `${translate("Problems")}:\n${messages.join("\n")}`;
      badge.addEventListener("click", (event) => {
        event.stopPropagation();
        selectElement(id);
      });
      overlays.add(id, PROBLEM, { position: { top: -10, right: 10 }, html: badge });
      pinned.push(id);
    }
    return unpinned;
  }

  const controller = {
    ready: options.xml ? importXML(options.xml) : Promise.resolve({ warnings: [] }),
    async getXML() {
      const { xml } = await modeler.saveXML({ format: true });
      return xml;
    },
    importXML,
    showProblems,
    clearProblems,
    selectElement,
    /** Calls fn on every change (and undo/redo); returns a function that unsubscribes. */
    onChange(fn) {
      const listener = () => fn();
      eventBus.on("commandStack.changed", listener);
      return () => eventBus.off("commandStack.changed", listener);
    },
    destroy() {
      modeler.destroy();
      canvasEl.classList.remove("jienan-modeler-canvas");
      propertiesEl.classList.remove("jienan-properties");
    },
    /** The bpmn-js instance, for pages that need more than this controller offers. */
    bpmnjs: modeler,
  };
  return controller;
}

jienanGlobal().modeler = { mount };
