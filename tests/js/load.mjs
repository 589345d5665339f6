// Loads the explorer's script files the way the page joins them: strict mode, one after another
// in one scope; with nothing of a browser but atob, so a file that touches the page while it
// loads fails here.
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import vm from 'node:vm';

export const SCRIPTS = fileURLToPath(new URL('../../src/mlplens/report/assets/js/', import.meta.url));

export function scriptText(name) {
  return readFileSync(`${SCRIPTS}${name}.js`, 'utf8');
}

// The files' top-level names, read through js('name').
export function load(...names) {
  const context = vm.createContext({atob});
  for (const name of names) {
    vm.runInContext(`'use strict'; ${scriptText(name)}`, context, {filename: `${name}.js`});
  }
  return (expression) => vm.runInContext(expression, context);
}

// Exactly these numbers, in order (0 and -0 alike); works on typed arrays of any realm.
export function assertNumbers(actual, expected) {
  assert.equal(actual.length, expected.length, `length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(actual[i] === expected[i], `[${i}] is ${actual[i]}, expected ${expected[i]}`);
  }
}
