// The rule table editor bundle: window.Jienan.dmn.mount(el, { xml, lang }).
import DmnModeler from "dmn-js/lib/Modeler";

import zh from "./i18n/dmn-zh.js";
import { jienanGlobal, resolveLang, translateModule } from "./i18n/translate.js";

/** dmn-js's modeler with the decision table as its only view: no DRD, so no "View DRD" button, and
 * the import opens the first decision's table directly. */
class TableModeler extends DmnModeler {
  _getViewProviders() {
    return super._getViewProviders().filter((provider) => provider.id === "decisionTable");
  }
}

/**
 * Opens the decision table of the first decision (our rule files hold one table each; the DRD is
 * not shown). Returns { ready, getXML(), importXML(xml), onChange(fn), destroy() }.
 */
function mount(el, options = {}) {
  const lang = resolveLang(options.lang);
  el.classList.add("jienan-dmn");
  // Not under `common`: dmn-js lets a view's own additionalModules replace the common ones.
  const modeler = new TableModeler({
    container: el,
    decisionTable: { additionalModules: lang === "zh" ? [translateModule(zh)] : [] },
  });

  const listeners = new Set();
  const watched = new WeakSet();
  const notify = () => listeners.forEach((fn) => fn());

  // Each view has its own command stack; listen to every viewer that becomes active.
  modeler.on("views.changed", () => {
    const viewer = modeler.getActiveViewer();
    if (viewer && !watched.has(viewer)) {
      watched.add(viewer);
      viewer.get("eventBus").on("commandStack.changed", notify);
    }
  });

  async function importXML(xml) {
    const { warnings } = await modeler.importXML(xml);
    const table = modeler.getViews().find((view) => view.type === "decisionTable");
    if (!table) {
      throw new Error("no decision table in this DMN file");
    }
    if (modeler.getActiveView() !== table) {
      await modeler.open(table);
    }
    return { warnings };
  }

  return {
    ready: options.xml ? importXML(options.xml) : Promise.resolve({ warnings: [] }),
    async getXML() {
      const { xml } = await modeler.saveXML({ format: true });
      return xml;
    },
    importXML,
    /** Calls fn on every edit (and undo/redo); returns a function that unsubscribes. */
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    destroy() {
      listeners.clear();
      modeler.destroy();
      el.classList.remove("jienan-dmn");
    },
    dmnjs: modeler,
  };
}

jienanGlobal().dmn = { mount };
