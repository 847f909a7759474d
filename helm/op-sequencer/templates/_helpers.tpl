{{/* Names and labels. */}}
{{- define "opseq.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "opseq.labels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "opseq.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* The five components: name (the CLI subcommand), values key, whether it owns data to keep
     (sled stores; the builder's persisted sequencing mode and generated JWT secret). */}}
{{- define "opseq.components" -}}
- { name: state-fetcher, key: stateFetcher, data: true }
- { name: txpool, key: txpool, data: true }
- { name: signer, key: signer, data: false }
- { name: publisher, key: publisher, data: false }
{{- $root := . }}
{{- $b := .Values.components.builder }}
{{- if $b.groups }}
{{- /* Builder groups: each builds its chains and follows the others' open builds. */}}
{{- range $g := $b.groups }}
{{- $peers := list }}
{{- range $o := $b.groups }}
{{- if ne $o.name $g.name }}
{{- $peers = append $peers (printf "http://%s-builder-%s:%v" (include "opseq.fullname" $root) $o.name $b.grpcPort) }}
{{- end }}
{{- end }}
- { name: {{ printf "builder-%s" $g.name | quote }}, key: builder, data: true, cmd: builder, chains: {{ join "," $g.chains | quote }}, peers: {{ join "," $peers | quote }} }
{{- end }}
{{- else }}
- { name: builder, key: builder, data: true }
{{- end }}
{{- end -}}

{{/* gRPC address of a component's Service. */}}
{{- define "opseq.addr" -}}
{{- $c := index .root.Values.components .key -}}
http://{{ include "opseq.fullname" .root }}-{{ .name }}:{{ $c.grpcPort }}
{{- end -}}

{{/* The OPSEQ_* environment of one component (the CLI's env twins). */}}
{{- define "opseq.env" -}}
{{- $v := .root.Values -}}
{{- $c := index $v.components .key -}}
- { name: OPSEQ_DATADIR, value: /data }
- { name: OPSEQ_GRPC_ADDR, value: {{ printf "0.0.0.0:%v" $c.grpcPort | quote }} }
- { name: OPSEQ_HTTP_ADDR, value: 0.0.0.0 }
- { name: OPSEQ_HTTP_PORT, value: {{ $v.httpPort | quote }} }
- { name: OPSEQ_STATE_ADDR, value: {{ include "opseq.addr" (dict "root" .root "name" "state-fetcher" "key" "stateFetcher") | quote }} }
- { name: OPSEQ_TXPOOL_ADDR, value: {{ include "opseq.addr" (dict "root" .root "name" "txpool" "key" "txpool") | quote }} }
- { name: OPSEQ_SIGNER_ADDR, value: {{ include "opseq.addr" (dict "root" .root "name" "signer" "key" "signer") | quote }} }
- { name: OPSEQ_PUBLISHER_ADDR, value: {{ include "opseq.addr" (dict "root" .root "name" "publisher" "key" "publisher") | quote }} }
- { name: OPSEQ_L2_BLOCK_TIME, value: {{ $v.chains.l2BlockTime | quote }} }
- { name: OPSEQ_L2_HARDFORK, value: {{ $v.chains.l2Hardfork | quote }} }
{{- if $v.chains.devnetConfig }}
- { name: OPSEQ_DEVNET_CONFIG, value: /devnet/devnet.yaml }
{{- end }}
- { name: OPSEQ_L1_BLOCK_TIME, value: {{ $v.chains.l1BlockTime | quote }} }
- { name: OPSEQ_NO_AUTO, value: {{ $v.chains.noAuto | quote }} }
- { name: OPSEQ_DEV_ACCOUNTS, value: {{ $v.chains.devAccounts | quote }} }
- { name: OPSEQ_TXPOOL_MAX_TXS, value: {{ $v.chains.txpoolMaxTxs | quote }} }
{{- with $v.chains.gasLimit }}
- { name: OPSEQ_GAS_LIMIT, value: {{ . | quote }} }
{{- end }}
{{- with $v.chains.genesisTimestamp }}
- { name: OPSEQ_GENESIS_TIMESTAMP, value: {{ . | quote }} }
{{- end }}
{{- with $v.chains.fork.url }}
- { name: OPSEQ_FORK_URL, value: {{ . | quote }} }
{{- end }}
{{- with $v.chains.fork.block }}
- { name: OPSEQ_FORK_BLOCK, value: {{ . | quote }} }
{{- end }}
- { name: OPSEQ_FORK_TIMEOUT_MS, value: {{ $v.chains.fork.timeoutMs | quote }} }
- { name: OPSEQ_FORK_L2, value: {{ $v.chains.fork.l2 | quote }} }
- { name: OPSEQ_INTEROP_EXPIRY_WINDOW, value: {{ $v.chains.interopExpiryWindow | quote }} }
- { name: OPSEQ_INTEROP_TIME, value: {{ $v.chains.interopTime | quote }} }
- { name: OPSEQ_INTEROP_AUTORELAY, value: {{ $v.chains.interopAutorelay | quote }} }
- { name: OPSEQ_INTEROP_KEEP_INVALID, value: {{ $v.chains.interopKeepInvalid | quote }} }
{{- with $v.chains.fork.l1Url }}
- { name: OPSEQ_FORK_L1_URL, value: {{ . | quote }} }
{{- end }}
- { name: OPSEQ_DB_SYNC, value: {{ $v.storage.sync | quote }} }
- { name: OPSEQ_LOG_FILTER, value: {{ $v.log.filter | quote }} }
- { name: OPSEQ_LOG_JSON, value: {{ $v.log.json | quote }} }
{{- with $v.otlp.endpoint }}
- { name: OPSEQ_OTLP_ENDPOINT, value: {{ . | quote }} }
{{- end }}
- { name: OPSEQ_OTLP_SERVICE_NAME, value: {{ printf "%s-%s" $v.otlp.serviceName .name | quote }} }
{{- if and (eq .key "builder") $v.jwt.existingSecret }}
- { name: OPSEQ_RPC_JWT_SECRET, value: /secrets/jwt/jwt.hex }
{{- end }}
{{- with .comp }}
{{- if .chains }}
- { name: OPSEQ_BUILDER_CHAINS, value: {{ .chains | quote }} }
{{- end }}
{{- if .peers }}
- { name: OPSEQ_BUILDER_PEERS, value: {{ .peers | quote }} }
{{- end }}
{{- end }}
{{- if and (eq .key "builder") $v.builderConfig }}
- { name: OPSEQ_BUILDERS_CONFIG, value: /config/builder_config.yaml }
{{- end }}
{{- if and (eq .key "publisher") $v.components.publisher.opNode }}
- { name: OPSEQ_PUBLISH_OP_NODE, value: {{ include "opseq.opNodeTargets" $v.components.publisher.opNode | quote }} }
{{- end }}
{{- if and (eq .name "signer") $v.signerKey.existingSecret }}
- { name: OPSEQ_SIGNER_KEY_FILE, value: /secrets/signer/sequencer.key }
{{- end }}
{{- end -}}

{{/* `<chainId>=<url>,…` of the publisher's op-node targets (sorted by chain id). */}}
{{- define "opseq.opNodeTargets" -}}
{{- $out := list -}}
{{- range $chain, $url := . -}}
{{- $out = append $out (printf "%v=%v" $chain $url) -}}
{{- end -}}
{{- join "," $out -}}
{{- end -}}
