// Initial zoom. Our process maps are wide: fitted into a page they shrink to unreadable text, so
// below MIN_SCALE the view zooms to a readable scale around the elements that matter instead.
const MIN_SCALE = 0.6;

function boundsOf(elements) {
  const shapes = elements.filter((element) => element && element.width !== undefined);
  if (!shapes.length) {
    return null;
  }
  const x = Math.min(...shapes.map((s) => s.x));
  const y = Math.min(...shapes.map((s) => s.y));
  const right = Math.max(...shapes.map((s) => s.x + s.width));
  const bottom = Math.max(...shapes.map((s) => s.y + s.height));
  return { x, y, width: right - x, height: bottom - y };
}

/**
 * Fits the diagram; if that makes it too small, shows `focus` (elements; default: the diagram's
 * top-left corner) at MIN_SCALE. `leftInset` keeps room for the palette.
 */
export function readableZoom(canvas, focus = [], leftInset = 0) {
  const fitted = canvas.zoom("fit-viewport", "auto");
  if (fitted >= MIN_SCALE) {
    return;
  }
  const { outer, inner } = canvas.viewbox();
  const width = outer.width / MIN_SCALE;
  const height = outer.height / MIN_SCALE;
  const inset = leftInset / MIN_SCALE;
  const target = boundsOf(focus);
  if (target) {
    canvas.viewbox({
      x: target.x + target.width / 2 - (width + inset) / 2,
      y: target.y + target.height / 2 - height / 2,
      width,
      height,
    });
  } else {
    canvas.viewbox({ x: inner.x - 20 - inset, y: inner.y - 20, width, height });
  }
}

/** Pans (without zooming) so that `element` is in the middle, unless it is well inside the view. */
export function centerOn(canvas, element) {
  const bounds = boundsOf(element.waypoints ? element.waypoints.map((p) => ({ ...p, width: 0, height: 0 })) : [element]);
  if (!bounds) {
    return;
  }
  const viewbox = canvas.viewbox();
  const margin = 80 / viewbox.scale;
  const inside =
    bounds.x - margin >= viewbox.x &&
    bounds.y - margin >= viewbox.y &&
    bounds.x + bounds.width + margin <= viewbox.x + viewbox.width &&
    bounds.y + bounds.height + margin <= viewbox.y + viewbox.height;
  if (!inside) {
    canvas.viewbox({
      x: bounds.x + bounds.width / 2 - viewbox.width / 2,
      y: bounds.y + bounds.height / 2 - viewbox.height / 2,
      width: viewbox.width,
      height: viewbox.height,
    });
  }
}
