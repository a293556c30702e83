/** Colour for terminal output, or none: `paint(io.color)` gives functions that leave text alone off a TTY. */
import { styleText } from "node:util";

type Style = "red" | "green" | "yellow" | "cyan" | "dim" | "bold";

export type Paint = Record<Style, (text: string) => string>;

export function paint(color: boolean): Paint {
  const style =
    (name: Style) =>
    (text: string): string =>
      color ? styleText(name, text) : text;
  return {
    red: style("red"),
    green: style("green"),
    yellow: style("yellow"),
    cyan: style("cyan"),
    dim: style("dim"),
    bold: style("bold"),
  };
}
