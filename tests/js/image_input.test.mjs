import assert from 'node:assert/strict';
import test from 'node:test';
import {assertNumbers, load} from './load.mjs';

const js = load('mnist_like', 'image_input');

// Every expected value here was computed once with the NumPy references: Pillow's
// Image.convert('L') for greyOf, mlplens.digit_image.ink_of for inkOf and
// mlplens.core.mnist_like.as_is for resizeAsIs.

test('imageKind reads the first bytes, not the name', () => {
  const imageKind = js('imageKind');
  assert.equal(imageKind([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'PNG');
  assert.equal(imageKind([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46]), 'JPEG');
  assert.equal(imageKind([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0, 0]), null);  // GIF
  assert.equal(imageKind([0x68, 0x69]), null);  // a short text file
});

test('greyOf is Pillow\'s convert("L"), alpha ignored', () => {
  const rgb = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255],
               [128, 64, 200], [17, 250, 3], [254, 1, 128], [100, 100, 100]];
  const rgba = rgb.flatMap(([r, g, b], i) => [r, g, b, i * 30]);
  assertNumbers(js('greyOf')(Uint8Array.from(rgba)), [0, 255, 76, 150, 29, 99, 152, 91, 100]);
});

test('inkOf: light paper is inverted, its level taken off, faint grain dropped', () => {
  const paper = [250, 230, 230, 230, 230, 230, 230, 230, 20, 230, 230, 230, 230, 230, 40, 215,
                 100, 230, 230, 230, 60, 230, 230, 230, 230, 230, 230, 230, 230, 230];
  const {ink, inverted} = js('inkOf')(Uint8Array.from(paper), 5, 6);
  assert.equal(inverted, true);
  const wanted = new Array(30).fill(0);
  // 215 on paper of 230 is 0.017 of ink, below the noise level; 250 is lighter than the paper.
  Object.assign(wanted, {8: 0.9130434782608696, 14: 0.8260869565217391,
                         16: 0.5652173913043479, 20: 0.7391304347826086});
  assertNumbers(ink, wanted);
});

test('inkOf: a dark background is kept, the median of an even border', () => {
  const dark = [10, 10, 10, 10, 10, 10, 200, 30, 255, 10, 10, 10, 250, 10, 10, 10, 10, 10, 10, 240];
  const {ink, inverted} = js('inkOf')(Uint8Array.from(dark), 4, 5);
  assert.equal(inverted, false);
  const wanted = new Array(20).fill(0);
  Object.assign(wanted, {6: 0.7755102040816326, 8: 1, 12: 0.9795918367346939,
                         19: 0.9387755102040817});
  assertNumbers(ink, wanted);
});

test('inkOf: nothing in a flat picture, nor in one with only faint marks', () => {
  assert.equal(js('inkOf')(new Uint8Array(9).fill(200), 3, 3), null);
  const white = new Uint8Array(12).fill(255);
  white[5] = 240;
  assert.equal(js('inkOf')(white, 3, 4), null);
});

// grey(r, c) = (37r + 91c + 7rc) mod 256, scaled up from 9x11 and down from 61x45.
for (const [height, width, hex] of [
  [9, 11, '0000295b5baeb67a11115b6c85c7c74f22337d7db7d8c93333658e8e0000295b5baeb67a11115b6c85c7c74f22337d7db7d8c93333658e8e0000295b5baeb67a11115b6c85c7c74f22337d7db7d8c93333658e8e21214d8282dae3aa454594a682232355687ac9c977474d8c8cc1eded2525528787e0e9b04b4b9bad820f0f567183d3d36e353e9797ccf9f92525528787e0e9b04b4b9bad820f0f567183d3d36e353e9797ccf9f9424271a9a9524a5a7878cde0b6474792ae9d4f4f6c7d87e5e5b185854a4a7ab3b32a1c428585dbeec55757a3c0a529296c929cfbfba964644a4a7ab3b32a1c428585dbeec55757a3c0a529296c929cfbfba96464636395d0d04b3e66acac7a6f7587875b4a4e6262a8d0ca9393a0abab6f6fa2dfdf5c4f78bfbf492f4e9f9f360f237f7fc6efe25f5f9ccfcf6f6fa2dfdf5c4f78bfbf492f4e9f9f360f237f7fc6efe25f5f9ccfcf84847869696b6b95dfdf6d5373c7c7613b50afaf9e94959797887c7c9494560b0b7782adf9f9897090e7e7835e74d5d57e4c57c3c3783a3a9494560b0b7782adf9f9897090e7e7835e74d5d57e4c57c3c3783a3aa4a4681f1f8e999ca1a1918d8f959587818389897d75767e7e736a6ab9b97e3737aab58633339ab18e2f2f8bad952b2b7ba99d27276ca5a5b9b97e3737aab58633339ab18e2f2f8bad952b2b7ba99d27276ca5a5c5c58b4646bac6984646afc7a44747a4c7b0484863736f4848607373dedea66363dce8bb6d6ddaf2d07777d8fce681813306128b8b481010dedea66363dce8bb6d6ddaf2d07777d8fce681813306128b8b481010adad906d6db3baa37a7ab9c8b68787bfd5c99494471b27a1a15f28280303438f8f261b4ea7a7483359bfbf6b4b64d7d78d6370efefb07b7b0303438f8f261b4ea7a7483359bfbf6b4b64d7d78d6370efefb07b7b07074794942b2154adad4f3a59abab6b5468c4c48d6d78dedeae878728286bbbbb584e83e1e18874560707729a862d2d8bc0b65353a3e6e628286bbbbb584e83e1e18874560707729a862d2d8bc0b65353a3e6e628286bbbbb584e83e1e18874560707729a862d2d8bc0b65353a3e6e6'],
  [61, 45, '3b9c6668837fa88f7c9f70537f78979364bd6c3b9050ae657d8290aa816c9a8169ae93785d908c896d8a7784a6854e97a27a628377858a7d868c958a86696562605c56817969666e6e68a0cb968c8a9591857a765e728f798b84854c63768a8f8d717d8a6781b1c44e6e7e788287a06b6b858b7c985f8ba46f9092725d9d7e82a24992bc60988182a687956e897b82887c927aa073a473577654808a919c7eb572bd69826c86688d85787b9376989a8874739b86608547af5fa860ae844eab5a91596475579c8d828666767277885d936c94875e979e42a69653aa8f477686728c5a919e976f6e937aa25f81807371bba3663bb3a86a56bab0706b82a8be977d7b51887d629d936e8aa4a078532e94e1ba946f575e9f798e4144369090817466585c56483b96908274abe6daccbeb1a29587797c909a9da1abb76758646e7a827f8f9aa6b1bcc8d2dedb9d7a85909ca6c1895d517273957a698aa19b6c9162526183a9cbdf36365d7e90a17a3c759395756874a376a2887f5a6297b2554b8bc48b3e77a3a9576b7f929553788a72898d79868e736d8f846eb5666db57268b98763935975955788548f737f767c7c905e967b928071c5589e269277707f589a6b49a984a882a57c997e917e9375905f974ea23e9738a272a06c9474888d6482739b655a8a58877aa7916a8d839c68bc8f4aaf7f7693616a868c827e62956a8c745b849a8d8187786e75759d885c73a57a6a9d89746e70788182776c5e5e5f6371859193895d647f816e646886909c8780777f746c7b94a571617997799877908b8d5f6579807b86627a9f7e908d786da58d907e72648e5a79ab79998885884e72927f857797686d8d947ba086af886d9b74a27fab95b05bb46ab782b26796799e8f9aa69a639e6d7d91558a84796f838d92679f5f7f8166ad3fad708e91619a5f92508299887d7e887c87977c8d856bba9849b3a5516db259579d7b6eb8b17875927e8c997f9d7a757baca981483dcc9e633878b37f6366894d589c7b9a999a82608f947b7d5b427a71c7b69774543464919faf90938b82797f7d756c635b84bfb7aea7b1a9a1978f867e766c64666860'],
]) {
  test(`resizeAsIs equals mnist_like.as_is: ${height}x${width} to 28x28`, () => {
    const grey = new Uint8Array(height * width);
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) grey[r * width + c] = (37 * r + 91 * c + 7 * r * c) % 256;
    }
    const out = js('resizeAsIs')(grey, height, width, 1, 28, 28);
    assert.equal(out.constructor.name, 'Uint8Array');
    assertNumbers(out, Array.from(Buffer.from(hex, 'hex')));
  });
}

test('rgbOf drops alpha; resizeAsIs area-averages each channel as mnist_like.as_is', () => {
  assertNumbers(js('rgbOf')(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)), [1, 2, 3, 5, 6, 7]);
  // A 2x3 colour picture (rows of RGB pixels), to 1x2 and to 3x2: as_is(values / 255, shape).
  const picture = Uint8Array.from([0, 10, 255, 200, 100, 50, 30, 60, 90,
                                   255, 255, 255, 0, 0, 0, 128, 64, 32]);
  const resize = js('resizeAsIs');
  assertNumbers(resize(picture, 2, 3, 3, 1, 2), [118, 105, 178, 86, 58, 49]);
  assertNumbers(resize(picture, 2, 3, 3, 3, 2), [67, 40, 187, 87, 73, 77, 118, 105, 178,
                                                 86, 58, 49, 170, 170, 170, 85, 43, 21]);
});
