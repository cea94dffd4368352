import type { PublishedFile } from '../benchmark-family.js';
import { SUGARCREPE_LEGACY_NAMES, SUGARCREPE_SUBSETS } from './loader.js';

/**
 * sha256 of SugarCrepe's JSON files as committed in RAIVNLab/sugar-crepe (computed here from the git
 * blobs: `git show <commit>:data/<name>.json | sha256sum`). The current names at 0047054 (data last
 * changed in 546eb51); the earlier `*_ent.json` names exist only at the first data commit 42b927f
 * (unfiltered: more rows, before "filter false negative"). COCO val2017 images are not checksummed.
 */
const HEAD = 'RAIVNLab/sugar-crepe@0047054b243992f0fad63d6f64f7544862daf846';
const FIRST = 'RAIVNLab/sugar-crepe@42b927f034f64ab7dd44e28e5635fdbedc60acee';

const CURRENT: Record<string, string> = {
  add_obj: '1b9d76b93139a937b8dc1ada92a4f05ecc821bb3c291d752428bafadd4bb0682',
  add_att: '012d88d729693d193760e6f3393b06a1cf874380a9db0062e937201199fe044d',
  replace_obj: '9d299600639947e9d15281a9ded1382b376cf4ea088a8d08a1314bfe76e81898',
  replace_att: '9fe55fd4c0a9ad1f85d486d9f6d0215b41f867eb025026e7f7b5ce44352545ee',
  replace_rel: '356bcc2fc4c6aed3f4d9fd50acc58489bb1fe70c28791f9368d4cbf9ea39cdc9',
  swap_obj: '073cdb8e253d053614e80710834d9773b09dbc1dd0a412f6f9492262caa1dcad',
  swap_att: '7a7ce04e5c4c80412b48c6f0c1347fb1a2f5d54c0be6aa429b64d390e442f8d0',
};

const LEGACY: Record<string, string> = {
  add_ent: 'a95b4cb14541d4e86ba2bdb159b9748b5f4a98e213fcd5a534f0ced6b93d50af',
  replace_ent: '6f5840e5e8acb3c05420ea8c5379e39d93259b970ffcda80b97aca59b976a29a',
  swap_ent: '0b9db4e3196ee8a00ffc21127bda3d315cac257124723a4e1bccd2a20e30792f',
};

export const SUGARCREPE_DIR = 'sugar_crepe/data';

export const SUGARCREPE_DATA_FILES: readonly PublishedFile[] = [
  ...SUGARCREPE_SUBSETS.map((s) => ({
    path: `${SUGARCREPE_DIR}/${s}.json`,
    sha256: CURRENT[s] as string,
    origin: `${HEAD}:data/${s}.json (git blob sha256)`,
  })),
  ...Object.values(SUGARCREPE_LEGACY_NAMES).map((old) => ({
    path: `${SUGARCREPE_DIR}/${old}.json`,
    sha256: LEGACY[old] as string,
    origin: `${FIRST}:data/${old}.json (git blob sha256; the earlier name and unfiltered data, renamed in 6e45274)`,
  })),
];
