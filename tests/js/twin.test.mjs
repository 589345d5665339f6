// The two-net page's script: report/twin.py joins the explorer files of its TWIN_SCRIPTS, in
// that order, then assets/twin/twin.js, into one scope, then calls startTwin().
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import test from 'node:test';
import vm from 'node:vm';
import {scriptText} from './load.mjs';

const twinPy = readFileSync(new URL('../../src/mlplens/report/twin.py', import.meta.url), 'utf8');
const SHARED = [...twinPy.match(/TWIN_SCRIPTS = \(([^)]*)\)/)[1].matchAll(/"(\w+)"/g)]
  .map((match) => match[1]);
const TWIN = readFileSync(new URL('../../src/mlplens/report/assets/twin/twin.js', import.meta.url),
                          'utf8');

test('the shared files and twin.js only declare, and declare no name twice', () => {
  const owner = {};
  for (const [name, text] of [...SHARED.map((n) => [n, scriptText(n)]), ['twin', TWIN]]) {
    const context = vm.createContext({atob});
    vm.runInContext(`'use strict'; ${text}`, context, {filename: `${name}.js`});
    for (const declared of Object.keys(context).filter((key) => key !== 'atob')) {
      assert.equal(owner[declared], undefined, `${declared} in ${owner[declared]}.js and ${name}.js`);
      owner[declared] = name;
    }
  }
  assert.equal(owner.startTwin, 'twin');
  for (const used of ['createPad', 'forward', 'strokesLike', 'strokesOnto', 'paintPixels',
                      'pictureBlock', 'inputsFromBrightness', 'fmt']) {
    assert.ok(owner[used], `${used} is declared by none of the shared files`);
  }
});

test('joined in one scope, the files load without touching a page', () => {
  // Two files declaring one const or let name throw here, as they would in the page.
  const context = vm.createContext({atob});
  for (const text of [...SHARED.map(scriptText), TWIN]) vm.runInContext(`'use strict'; ${text}`, context);
  assert.equal(vm.runInContext('typeof startTwin', context), 'function');
  assert.equal(vm.runInContext('SHOWN', context), 12);
});
