// The `translate` service that bpmn-js, dmn-js and the properties panel ask for every label they show.

/** window.Jienan, created on first use; every bundle hangs its API there. */
export function jienanGlobal() {
  window.Jienan = window.Jienan || {};
  return window.Jienan;
}

function missingTemplates() {
  const jienan = jienanGlobal();
  jienan.i18n = jienan.i18n || {};
  jienan.i18n.missing = jienan.i18n.missing || new Set();
  return jienan.i18n.missing;
}

/** Lower-cases and treats "-" like a space: bpmn-js spells one type "User task" in its menus,
 * "User Task" in the properties panel header and "non-interrupting" vs "Non Interrupting". */
function normalise(text) {
  return text.toLowerCase().replace(/[-\s]+/g, " ").trim();
}

function fill(template, replacements) {
  return template.replace(/{([^}]+)}/g, (match, key) =>
    replacements && replacements[key] !== undefined ? String(replacements[key]) : match,
  );
}

/**
 * A diagram-js module overriding `translate` with `dictionary` (English template → Chinese
 * template, `{placeholders}` kept). Without a dictionary it only fills placeholders, as the
 * built-in service does. Templates without a translation are shown in English and remembered in
 * `window.Jienan.i18n.missing`, which is how the dictionaries were completed.
 */
export function translateModule(dictionary) {
  const exact = new Map(Object.entries(dictionary || {}));
  const loose = new Map(Object.entries(dictionary || {}).map(([key, value]) => [normalise(key), value]));
  const missing = missingTemplates();

  function translate(template, replacements) {
    if (typeof template !== "string") {
      return template;
    }
    let text = exact.get(template);
    if (text === undefined && dictionary) {
      text = loose.get(normalise(template));
      if (text === undefined && template.trim()) {
        missing.add(template);
      }
    }
    return fill(text === undefined ? template : text, replacements);
  }

  return { translate: ["value", translate] };
}

/** "zh" unless the caller or the page (`<html lang="en">`) asks for English. */
export function resolveLang(lang) {
  const wanted = lang || document.documentElement.lang || "zh";
  return wanted.toLowerCase().startsWith("en") ? "en" : "zh";
}
