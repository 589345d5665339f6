// The page's script as a whole: page.py joins every file of assets/js/ in the order of its
// EXPLORER_SCRIPTS into one scope, then calls startExplorer().
import assert from 'node:assert/strict';
import {readdirSync, readFileSync} from 'node:fs';
import test from 'node:test';
import vm from 'node:vm';
import {SCRIPTS, load, scriptText} from './load.mjs';

const pagePy = readFileSync(new URL('../../src/mlplens/report/page.py', import.meta.url), 'utf8');
const ORDER = [...pagePy.match(/EXPLORER_SCRIPTS = \(([^)]*)\)/)[1].matchAll(/"(\w+)"/g)]
  .map((match) => match[1]);

test('page.py joins every script file, each once, main last', () => {
  const files = readdirSync(SCRIPTS).filter((name) => name.endsWith('.js'))
    .map((name) => name.slice(0, -3));
  assert.deepEqual([...ORDER].sort(), files.sort());
  assert.equal(ORDER.at(-1), 'main');
});

test('loading the files only declares: nothing touches the page until startExplorer()', () => {
  // Without a document or window here, any file using one while it loads would throw; two
  // files declaring one const or let name throw too.
  const js = load(...ORDER);
  assert.equal(js('typeof startExplorer'), 'function');
});

test('no two files declare the same function', () => {
  const owner = {};
  for (const name of ORDER) {
    const context = vm.createContext({});
    vm.runInContext(scriptText(name), context);
    for (const declared of Object.keys(context)) {
      assert.equal(owner[declared], undefined, `${declared} in ${owner[declared]}.js and ${name}.js`);
      owner[declared] = name;
    }
  }
});
