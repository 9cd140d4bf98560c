// Labels on the canvas are SVG text measured and wrapped by bpmn-js: naming Chinese faces first
// makes the measurement match what is drawn (the same stack as app.css).
export const FONT_FAMILY =
  '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", ' +
  '"Microsoft YaHei", "WenQuanYi Micro Hei", Arial, sans-serif';

export const textRenderer = { defaultStyle: { fontFamily: FONT_FAMILY } };
