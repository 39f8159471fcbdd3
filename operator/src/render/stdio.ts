import type { V1Container, V1SecurityContext, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import Value from 'typebox/value';
import type { SidecarConfig } from '../../../sidecar/src/contract/index.ts';
import { type HostedSource, StdioSettings } from '../api/hosted-source.ts';
import type { OperatorDefaults } from '../api/operator-defaults.ts';

// A stdio server's pod: an init container copies the Portcullis launcher from the sidecar image
// into a shared volume; the launcher becomes the MCP container's entrypoint and runs the server's
// command once per MCP session; the sidecar reaches it over a Unix socket in a second shared
// volume. The MCP container keeps no port, no token, and a read-only root filesystem: each
// process's working directory, HOME and TMPDIR are in a volume of the MCP container alone.

export const LAUNCHER_CONTAINER = 'portcullis-launcher';
/** Where the sidecar image holds the launcher (Dockerfile.sidecar). */
export const LAUNCHER_IN_SIDECAR_IMAGE = '/opt/portcullis/launcher';
const LAUNCHER_DIR = '/portcullis/bin';
export const LAUNCHER = `${LAUNCHER_DIR}/launcher`;
const SOCKET_DIR = '/run/portcullis';
export const LAUNCHER_SOCKET = `${SOCKET_DIR}/launcher.sock`;
// The volume's root belongs to the kubelet; the launcher makes its own folder in it.
const SESSIONS_VOLUME_DIR = '/var/lib/portcullis';
const SESSIONS_DIR = `${SESSIONS_VOLUME_DIR}/sessions`;

const VOLUMES = { bin: 'portcullis-launcher', socket: 'portcullis-socket', sessions: 'portcullis-sessions' };

/** The McpServer's stdio settings with their defaults. */
export function stdioSettings(hosted: HostedSource): StdioSettings {
  return Value.Default(StdioSettings, structuredClone(hosted.stdio ?? {})) as StdioSettings;
}

/** The sidecar's upstream: the launcher's socket and the process limits. */
export function stdioUpstream(hosted: HostedSource): SidecarConfig['upstream'] {
  const s = stdioSettings(hosted);
  return {
    transport: 'stdio',
    launcher: { socket: LAUNCHER_SOCKET },
    processes: {
      maxProcesses: s.maxProcesses,
      warm: s.warm,
      idleTimeoutMs: s.idleTimeoutSeconds * 1000,
      stopGraceMs: s.stopGraceSeconds * 1000,
    },
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 60_000,
  };
}

export interface StdioPod {
  readonly initContainer: V1Container;
  readonly volumes: V1Volume[];
  /** The MCP container's entrypoint: the launcher, then the server's command line. */
  readonly command: string[];
  readonly mcpMounts: V1VolumeMount[];
  readonly sidecarMounts: V1VolumeMount[];
}

export function stdioPod(
  hosted: HostedSource,
  defaults: OperatorDefaults,
  securityContext: V1SecurityContext,
): StdioPod {
  const s = stdioSettings(hosted);
  const { sidecar } = defaults;
  return {
    initContainer: {
      name: LAUNCHER_CONTAINER,
      image: sidecar.image,
      imagePullPolicy: sidecar.imagePullPolicy,
      command: [LAUNCHER_IN_SIDECAR_IMAGE, 'install', LAUNCHER],
      securityContext,
      resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
      volumeMounts: [{ name: VOLUMES.bin, mountPath: LAUNCHER_DIR }],
      terminationMessagePolicy: 'FallbackToLogsOnError',
    },
    volumes: [
      { name: VOLUMES.bin, emptyDir: { sizeLimit: '32Mi' } },
      { name: VOLUMES.socket, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
      { name: VOLUMES.sessions, emptyDir: {} },
    ],
    command: [
      LAUNCHER,
      '-socket',
      LAUNCHER_SOCKET,
      '-sessions',
      SESSIONS_DIR,
      // The sidecar holds the cap; the launcher's own is a backstop against anything else on the socket.
      '-max-processes',
      String(s.maxProcesses),
      '-grace',
      `${s.stopGraceSeconds}s`,
      '--',
      ...(hosted.command ?? []),
      ...(hosted.args ?? []),
    ],
    mcpMounts: [
      { name: VOLUMES.bin, mountPath: LAUNCHER_DIR, readOnly: true },
      { name: VOLUMES.socket, mountPath: SOCKET_DIR },
      { name: VOLUMES.sessions, mountPath: SESSIONS_VOLUME_DIR },
    ],
    sidecarMounts: [{ name: VOLUMES.socket, mountPath: SOCKET_DIR }],
  };
}
