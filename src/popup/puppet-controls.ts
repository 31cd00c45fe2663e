/**
 * The popup's puppet controls: the character (with a thumbnail drawn by the engine's own drawing
 * code, in the chosen colours) and the hair, skin and eye colours.
 */
import { drawCharacter, type RigState } from '../shared/puppet-characters';
import { CHARACTER_NAMES, CHARACTERS, DEFAULT_PALETTES, isCharacter } from '../shared/puppet';
import type { Settings } from '../shared/settings';

/** The thumbnail's pose: the rig's neutral pose with a smile. */
const POSE: RigState = {
  yaw: 0.15, pitch: 0, roll: 0, eyeL: 1, eyeR: 1, gazeX: 0, gazeY: 0, mouthOpen: 0, mouthWide: 0.2, smile: 0.6,
  browL: 0.2, browR: 0.2, dx: 0, dy: 0, breath: 0, hairYaw: 0.1, hairRoll: 0, bodyYaw: 0.05, bodyRoll: 0, live: false,
};

const el = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`popup.html has no #${id}`);
  return e as T;
};

/** Shows `s` in the puppet controls (and the backdrop row's puppet rule: no blurred room). */
export function renderPuppet(s: Settings): void {
  const character = el<HTMLSelectElement>('puppet-character');
  if (character.options.length === 0) {
    for (const id of CHARACTERS) character.add(new Option(CHARACTER_NAMES[id], id));
  }
  character.value = s.puppetCharacter;
  el<HTMLInputElement>('puppet-hair').value = s.puppetHair;
  el<HTMLInputElement>('puppet-skin').value = s.puppetSkin;
  el<HTMLInputElement>('puppet-eyes').value = s.puppetEyes;
  const puppet = s.presentation === 'puppet';
  el('puppet-row').hidden = !puppet;
  const blur = el<HTMLSelectElement>('backdrop').querySelector<HTMLOptionElement>('option[value=blur]');
  if (blur) blur.disabled = puppet;
  if (puppet) {
    el('backdrop-row').hidden = false;
    // the puppet's 'blur' is the painted scene (filterFor): show what it gets
    if (s.backdrop === 'blur') el<HTMLSelectElement>('backdrop').value = 'scene';
    el('backdrop-colour').hidden = false;
  }
  const thumb = el<HTMLCanvasElement>('puppet-thumb');
  const x = thumb.getContext('2d');
  if (x) {
    x.setTransform(1, 0, 0, 1, 0, 0);
    x.fillStyle = s.backdrop === 'colour' ? s.backdropColour : '#c9d6e2';
    x.fillRect(0, 0, thumb.width, thumb.height);
    drawCharacter(x as unknown as OffscreenCanvasRenderingContext2D, s.puppetCharacter, { hair: s.puppetHair, skin: s.puppetSkin, eyes: s.puppetEyes }, POSE, thumb.width, thumb.height);
  }
}

/** Wires the controls to the settings (`on`: the popup's change binder). */
export function bindPuppet(on: (e: HTMLElement, change: (s: Settings) => void) => void): void {
  const character = el<HTMLSelectElement>('puppet-character');
  on(character, (s) => {
    if (!isCharacter(character.value)) return;
    // a new character starts from its own colours
    s.puppetCharacter = character.value;
    s.puppetHair = DEFAULT_PALETTES[character.value].hair;
    s.puppetSkin = DEFAULT_PALETTES[character.value].skin;
    s.puppetEyes = DEFAULT_PALETTES[character.value].eyes;
    s.mode = 'anime';
    s.presentation = 'puppet';
  });
  for (const [id, key] of [['puppet-hair', 'puppetHair'], ['puppet-skin', 'puppetSkin'], ['puppet-eyes', 'puppetEyes']] as const) {
    const input = el<HTMLInputElement>(id);
    on(input, (s) => (s[key] = input.value));
  }
}
