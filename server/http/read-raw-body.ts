import type { IncomingMessage } from "node:http";
import getRawBody from "raw-body";
import { AppError } from "../errors.ts";

/** The request body as bytes, at most `limit` of them; refuses encoded (gzip, ...) bodies. */
export async function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding.toLowerCase() !== "identity") {
    throw new AppError(
      "UNSUPPORTED_CONTENT_TYPE",
      `Content-Encoding ${encoding} is not accepted; send the body plain.`,
    );
  }
  const declared = req.headers["content-length"];
  try {
    return await getRawBody(req, { limit, length: declared === undefined ? undefined : Number(declared) });
  } catch (error) {
    const type = (error as { type?: string }).type;
    if (type === "entity.too.large") throw new AppError("BODY_TOO_LARGE");
    throw new AppError("BODY_MALFORMED", "The request body could not be read completely.", { cause: error });
  }
}
