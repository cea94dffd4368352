import type { PublishedFile } from '../benchmark-family.js';

/**
 * The What'sUp files as published. The JSON annotation files and image archives are published only
 * on Google Drive (amitakamath/whatsup_vlms README, and the gdown ids in
 * `dataset_zoo/aro_datasets.py`); they are not in the git repository
 * (amitakamath/whatsup_vlms@7c1f2550eace32e7b8c77de5a792347c402960d1 has no data/ folder), so the
 * project could not establish their sha256: `perceive data check` prints them as unknown.
 */
const DRIVE = 'Google Drive folder 164q6X9hrvP-QYpi3ioSnfMuyHpG5oRkZ (amitakamath/whatsup_vlms README); not in git, sha256 unknown';

export const WHATSUP_DATA_FILES: readonly PublishedFile[] = [
  { path: 'whatsup_vlms/data/controlled_images_dataset.json', sha256: null, origin: `${DRIVE}; gdown id 1ap8mmmpQjLIjPGuplkpBgc1hoEHCj4hm` },
  { path: 'whatsup_vlms/data/controlled_clevr_dataset.json', sha256: null, origin: `${DRIVE}; gdown id 1unNNosLbdy9NDjgj4l8fsQP3WiAAGA6z` },
  { path: 'whatsup_vlms/data/coco_qa_one_obj.json', sha256: null, origin: `${DRIVE}; gdown id 1RsMdpE9mmwnK4zzMPpC1-wTU_hNis-dq` },
  { path: 'whatsup_vlms/data/coco_qa_two_obj.json', sha256: null, origin: `${DRIVE}; gdown id 1TCEoM0mgFmz8T4cF7PQ3XJmO6JjtiQ-s` },
  { path: 'whatsup_vlms/data/vg_qa_one_obj.json', sha256: null, origin: `${DRIVE}; gdown id 1ARMRzRdohs9QTr1gpIfzyUzvW20wYp_p` },
  { path: 'whatsup_vlms/data/vg_qa_two_obj.json', sha256: null, origin: `${DRIVE}; gdown id 1sjVG5O3QMY8s118k7kQM8zzDZH12i_95` },
];
