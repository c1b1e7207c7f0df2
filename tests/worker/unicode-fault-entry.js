// TEST-ONLY Worker entry — never deploy this. tests/worker/unicode-entry.js in an engine made,
// by a FAKE, to lack Unicode: after the modules load (the product's among them), and so before
// the module's first Unicode question, String.prototype.normalize throws and a RegExp with the
// `u` flag cannot be made, as in an engine without ICU.
import entry from "./unicode-entry.js";

const RealRegExp = RegExp;
String.prototype.normalize = function normalize() {
  throw new RangeError("FAKE: this engine has no Unicode normalization");
};
globalThis.RegExp = function RegExp(source, flags) {
  if (String(flags ?? "").includes("u")) throw new SyntaxError("FAKE: this engine has no Unicode property escapes");
  return new RealRegExp(source, flags);
};

export default entry;
