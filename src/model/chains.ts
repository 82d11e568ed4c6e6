/** Names of the chains gen-fw creates and owns. Everything it owns starts with GFW-, except DOCKER-USER. */
export const CHAIN = {
  input: 'GFW-INPUT',
  inputRules: 'GFW-INPUT-RULES',
  output: 'GFW-OUTPUT',
  outputRules: 'GFW-OUTPUT-RULES',
  forward: 'GFW-FORWARD',
  forwardRules: 'GFW-FORWARD-RULES',
  drop: 'GFW-DROP',
  reject: 'GFW-REJECT',
  dockerUser: 'DOCKER-USER',
  dockerRules: 'GFW-DOCKER-RULES',
} as const;

export const OWNED_PREFIX = 'GFW-';

export const METADATA = { 4: '169.254.169.254', 6: 'fd00:ec2::254' } as const;
