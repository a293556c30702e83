/** Where a JSON pointer, or a parse error's offset, is in the source text (1-based line and column). */
import { findNodeAtLocation, parseTree, type Node } from "jsonc-parser";

export interface Location {
  line: number;
  column: number;
}

export function locateOffset(text: string, offset: number): Location {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i += 1) {
    if (text.charCodeAt(i) === 10) {
      line += 1;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

export function pointerSegments(pointer: string): Array<string | number> {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((part) => (/^(0|[1-9][0-9]*)$/.test(part) ? Number(part) : part));
}

/** Locates pointers in one file's text; the tree is parsed once. */
export function createLocator(text: string): (pointer: string) => Location {
  let tree: Node | undefined;
  return (pointer) => {
    tree ??= parseTree(text);
    if (!tree) return { line: 1, column: 1 };
    let segments = pointerSegments(pointer);
    // the deepest node that exists: a missing key is reported where its parent is
    while (segments.length > 0 && !findNodeAtLocation(tree, segments)) segments = segments.slice(0, -1);
    const node = segments.length === 0 ? tree : findNodeAtLocation(tree, segments);
    const at = node?.parent?.type === "property" ? node.parent.offset : (node?.offset ?? 0);
    return locateOffset(text, at);
  };
}

/** JSON.parse, with the position of a syntax error (Node's messages name an offset). */
export function parseJson(text: string): { value: unknown } | { error: string; location: Location } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    const message = (error as Error).message;
    const offset = /position (\d+)/.exec(message)?.[1];
    const location = offset === undefined ? locateEnd(text) : locateOffset(text, Number(offset));
    return { error: message.replace(/ in JSON at position \d+.*$/, ""), location };
  }
}

function locateEnd(text: string): Location {
  return locateOffset(text, text.length);
}
