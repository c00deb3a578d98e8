// Writes N random CVSS v4.0 vectors with the score ae-cvss-calculator (npm)
// gives them: tests/golden/cvss4/vectors.txt. Not run by the suite; needs
// 'npm install ae-cvss-calculator' in the current directory.
//   node tests/tools/cvss4_golden.js 3000
'use strict';
const { Cvss4P0 } = require('ae-cvss-calculator');
let seed = 12345;
function rnd(n) { seed = (seed * 1103515245 + 12345) % 2147483648; return Math.floor(seed / 65536) % n; }
const pick = a => a[rnd(a.length)];
const base = [["AV","NALP"],["AC","LH"],["AT","NP"],["PR","NLH"],["UI","NPA"],["VC","HLN"],["VI","HLN"],["VA","HLN"],["SC","HLN"],["SI","HLN"],["SA","HLN"]];
const extra = [["E","APU"],["CR","HML"],["IR","HML"],["AR","HML"],["MAV","NALP"],["MAC","LH"],["MAT","NP"],["MPR","NLH"],["MUI","NPA"],["MVC","HLN"],["MVI","HLN"],["MVA","HLN"],["MSC","HLN"],["MSI","SHLN"],["MSA","SHLN"]];
const out = [];
const N = +process.argv[2];
for (let i = 0; i < N; i++) {
  let v = "CVSS:4.0/" + base.map(([k, vals]) => k + ":" + pick(vals)).join("/");
  const mode = rnd(3); // 0: base only, 1: + threat/requirements, 2: + anything
  if (mode > 0) for (const [k, vals] of extra) {
    if (mode === 1 && k.startsWith("M")) continue;
    if (rnd(3) === 0) v += "/" + k + ":" + pick(vals);
  }
  const s = new Cvss4P0(v).calculateScores().overall;
  out.push(v + " " + s.toFixed(1));
}
console.log(out.join("\n"));
