import { join } from 'node:path';
import type { RulesetStream } from '../model/types.js';
import { version } from '../version.js';
import type { BundleSink } from './bundle.js';
import type { Template } from './handlebars.js';
import { PrebuiltRecords } from './prebuilt.js';

export interface RenderedServices {
  /** Each fragment's file name and sha256, in fragment order. */
  fragments: { file: string; sha256: string }[];
  services: string[];
  /** The pre-built records' file, and its sha256. */
  prebuilt: { path: string; sha256: string };
}

/**
 * The fragments, one at a time as the model yields them (each written, then dropped: only its
 * sha256 and its pre-built records are kept), then iptables-init.prebuilt, which lists them
 * all and needs the port dispatch. The records and the dispatch die with this call.
 */
export function renderServices(
  ruleset: RulesetStream,
  use: (name: string) => Template,
  opts: { installDir: string; hostInput: { file: string; sha256: string }[] },
  sink: BundleSink,
): RenderedServices {
  const fragmentTemplate = use('fragment.sh');
  const fragmentDir = join('rootfs', opts.installDir, 'iptables_conf.d');
  const fragments: { file: string; sha256: string }[] = [];
  const services: string[] = [];
  const records = new PrebuiltRecords();
  for (const fragment of ruleset.fragments) {
    const fileName = `iptables_${fragment.service}.sh`;
    const content = fragmentTemplate({
      version,
      what: `the fragment for service ${fragment.service}`,
      inputs: [{ file: fragment.file, sha256: fragment.sha256 }],
      service: fragment.service,
      description: fragment.description ?? '',
      fileName,
      sections: fragment.sections,
    });
    fragments.push({ file: fileName, sha256: sink.add(join(fragmentDir, fileName), content, 0o755) });
    services.push(fragment.service);
    records.add(fragment, fileName);
  }

  const path = join('rootfs', opts.installDir, 'iptables-init.prebuilt');
  const content = prebuiltFile(use, records, ruleset, { hostInput: opts.hostInput, fragments });
  return { fragments, services, prebuilt: { path, sha256: sink.add(path, content, 0o644) } };
}

/**
 * iptables-init.prebuilt's text. The dispatch as data lives only as long as it takes to turn
 * it into records, and the records only until the text is made.
 */
function prebuiltFile(
  use: (name: string) => Template,
  records: PrebuiltRecords,
  ruleset: RulesetStream,
  data: { hostInput: { file: string; sha256: string }[]; fragments: { file: string; sha256: string }[] },
): string {
  const all = records.finish(ruleset.dispatch());
  return use('iptables-init.prebuilt')({
    version,
    what: "iptables_conf.d's generated fragments, captured at render time (iptables-init.prebuilt)",
    inputs: data.hostInput,
    dispatch: all.dispatched,
    fragments: data.fragments,
    records: all.records,
  });
}
