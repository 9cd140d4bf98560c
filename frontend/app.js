// Jienan's browser code: Bootstrap's components plus three small enhancements that pages opt into
// with data attributes. Every page must also work without this file (forms submit, selects select).
import bootstrap from "bootstrap/dist/js/bootstrap.bundle.js";

// Bootstrap's data-bs-* API wires itself up; the global is for page scripts that need it directly.
window.bootstrap = bootstrap;

document.documentElement.classList.replace("no-js", "js");

/** Lower-cases and drops spaces so "某某 科技" matches "某某科技有限公司". */
function normalise(text) {
  return (text || "").toLowerCase().replace(/\s+/g, "");
}

/**
 * Enterprise picker: `<input data-enterprise-search>` directly followed by a `<select>` narrows that
 * select's options to those whose text (or `data-search-text`, e.g. a credit code) contains every
 * space-separated term. Options are removed and re-added rather than hidden, because mobile Safari
 * ignores `hidden` on <option>. The empty placeholder and the selected option always stay, so
 * filtering never changes what the form submits.
 */
function initEnterpriseSearch(input) {
  const select = input.nextElementSibling;
  if (!select || select.tagName !== "SELECT" || select.multiple) {
    return;
  }
  const allOptions = Array.from(select.options);

  function apply() {
    const terms = input.value.split(/\s+/).map(normalise).filter(Boolean);
    const selected = new Set(Array.from(select.selectedOptions));
    const keep = allOptions.filter((option) => {
      if (option.value === "" || selected.has(option)) {
        return true;
      }
      const haystack = normalise(`${option.text} ${option.dataset.searchText || ""}`);
      return terms.every((term) => haystack.includes(term));
    });
    select.replaceChildren(...keep);
    select.dataset.matchCount = String(keep.filter((o) => o.value !== "").length);
  }

  input.removeAttribute("hidden");
  input.addEventListener("input", apply);
  // Enter in the filter box should not submit a half-filled form from a phone keyboard.
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      select.focus();
    }
  });
  if (input.value) {
    apply();
  }
}

/** `data-confirm="确定撤回？"` on a button or link asks before it acts. */
function onClickConfirm(event) {
  const trigger = event.target.closest("[data-confirm]");
  if (trigger && !window.confirm(trigger.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}

/** `<select data-autosubmit>` submits its form on change; pages keep a submit button for no-JS. */
function onChangeAutosubmit(event) {
  const select = event.target;
  if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-autosubmit") || !select.form) {
    return;
  }
  if (typeof select.form.requestSubmit === "function") {
    select.form.requestSubmit();
  } else {
    select.form.submit();
  }
}

document.addEventListener("click", onClickConfirm, true);
document.addEventListener("change", onChangeAutosubmit);
function initPage() {
  document.querySelectorAll("input[data-enterprise-search]").forEach(initEnterpriseSearch);
}

// app.js is loaded with `defer`, so the document is normally parsed already; running now (not on
// DOMContentLoaded) means page scripts' own DOMContentLoaded handlers see the enhanced page.
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", initPage);
} else {
  initPage();
}
