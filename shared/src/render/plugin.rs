//! How a merged [`PluginSet`] reaches the target's objects (`crate::plugins` has the merge
//! rules): `NEO4J_PLUGINS` and the download init containers. The neo4j.conf lines and the
//! `apoc.*` keys go through the renderer's own `conf` (a plugin section before every other in
//! neo4j.conf and in apoc.conf, which both startup scripts copy next to neo4j.conf).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1 as corev1;

use crate::plugins::PluginSet;

use super::pod::{self, TrustedCa, empty_dir, mount};

/// Where the init containers find a downloaded plugin's credentials and trusted CAs.
const AUTH_DIR: &str = "/etc/plugin-auth";
const CA_DIR: &str = "/etc/plugin-ca";
const INIT_PREFIX: &str = "plugin-init-";

/// The download script of every `plugin-init-*` container: fixed text; the plugin's values
/// arrive only as environment variables, always quoted.
pub(crate) const DOWNLOAD_SH: &str = r#"set -eu
work="$(mktemp -d)"
set -- --fail --location --silent --show-error --proto =https --proto-redir =https --retry 5 --max-time 900
if ls /etc/plugin-ca/*.crt >/dev/null 2>&1; then
  cat /etc/plugin-ca/*.crt > "${work}/ca.crt"
  set -- "$@" --cacert "${work}/ca.crt"
fi
if [ -d /etc/plugin-auth ]; then
  if [ -f /etc/plugin-auth/header ]; then
    printf 'Authorization: %s\n' "$(cat /etc/plugin-auth/header)" > "${work}/headers"
  elif [ -f /etc/plugin-auth/token ]; then
    printf 'Authorization: Bearer %s\n' "$(cat /etc/plugin-auth/token)" > "${work}/headers"
  else
    echo "plugin ${PLUGIN_NAME}: the auth Secret has neither a header nor a token key" >&2
    exit 1
  fi
  set -- "$@" --header "@${work}/headers"
fi
curl "$@" --output "${work}/plugin.jar" "${PLUGIN_URL}"
algorithm="${PLUGIN_CHECKSUM%%:*}"
expected="${PLUGIN_CHECKSUM#*:}"
case "${algorithm}" in
  sha256) actual="$(sha256sum "${work}/plugin.jar" | cut -d ' ' -f 1)" ;;
  sha512) actual="$(sha512sum "${work}/plugin.jar" | cut -d ' ' -f 1)" ;;
  *) echo "plugin ${PLUGIN_NAME}: unsupported checksum algorithm ${algorithm}" >&2; exit 1 ;;
esac
if [ "${actual}" != "${expected}" ]; then
  echo "plugin ${PLUGIN_NAME}: checksum mismatch: expected ${expected}, got ${actual}" >&2
  exit 1
fi
cp "${work}/plugin.jar" "${PLUGIN_TARGET}"
"#;

fn env(name: &str, value: &str) -> corev1::EnvVar {
    corev1::EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..Default::default()
    }
}

impl PluginSet {
    /// Sets `NEO4J_PLUGINS` in the Neo4j container's environment: the merged list joined with
    /// any list the user's `spec.env` already gives (replacing that entry, so no name repeats).
    pub(crate) fn add_env(&self, env: &mut Vec<corev1::EnvVar>) {
        if self.neo4j_plugins.is_empty() {
            return;
        }
        let mut names: BTreeSet<String> = self.neo4j_plugins.iter().cloned().collect();
        env.retain(|e| {
            if e.name != "NEO4J_PLUGINS" {
                return true;
            }
            if let Some(user) = e
                .value
                .as_deref()
                .and_then(|v| serde_json::from_str::<Vec<String>>(v).ok())
            {
                names.extend(user);
            }
            false
        });
        let list: Vec<String> = names.into_iter().collect();
        let json = serde_json::to_string(&list).unwrap_or_else(|_| "[]".to_string());
        env.push(env_entry("NEO4J_PLUGINS", json));
    }

    /// Appends one `plugin-init-<name>` container per download to `init` (after the operator's
    /// own), and the volumes they need to `volumes`: a scratch directory, each auth Secret, and
    /// the target's trusted CAs as `<secret>.crt`.
    pub(crate) fn add_init_containers(
        &self,
        init: Option<Vec<corev1::Container>>,
        cas: &[TrustedCa],
        volumes: &mut Vec<corev1::Volume>,
    ) -> Option<Vec<corev1::Container>> {
        if self.downloads.is_empty() {
            return init;
        }
        let mut init = init.unwrap_or_default();
        volumes.push(empty_dir("plugin-init-tmp"));
        if !cas.is_empty() {
            volumes.push(ca_volume(cas));
        }
        for d in &self.downloads {
            let mut mounts = vec![
                mount("plugins", "/plugins", false),
                mount("plugin-init-tmp", "/tmp", false),
            ];
            if !cas.is_empty() {
                mounts.push(mount("plugin-ca", CA_DIR, true));
            }
            if let Some(secret) = &d.auth_secret {
                let name = format!("plugin-auth-{}", d.plugin);
                volumes.push(corev1::Volume {
                    name: name.clone(),
                    secret: Some(corev1::SecretVolumeSource {
                        secret_name: Some(secret.clone()),
                        default_mode: Some(0o440),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
                mounts.push(mount(&name, AUTH_DIR, true));
            }
            init.push(corev1::Container {
                name: format!("{INIT_PREFIX}{}", d.plugin),
                image: Some(self.init_image.clone()),
                image_pull_policy: Some("IfNotPresent".into()),
                command: Some(vec!["/bin/sh".into(), "-c".into(), DOWNLOAD_SH.into()]),
                env: Some(vec![
                    env("PLUGIN_NAME", &d.plugin),
                    env("PLUGIN_URL", &d.url),
                    env("PLUGIN_CHECKSUM", &d.checksum),
                    env("PLUGIN_TARGET", &format!("/plugins/{}.jar", d.plugin)),
                ]),
                volume_mounts: Some(mounts),
                security_context: Some(corev1::SecurityContext {
                    run_as_user: Some(pod::NEO4J_UID),
                    run_as_group: Some(pod::NEO4J_UID),
                    run_as_non_root: Some(true),
                    allow_privilege_escalation: Some(false),
                    read_only_root_filesystem: Some(true),
                    capabilities: Some(corev1::Capabilities {
                        drop: Some(vec!["ALL".into()]),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                resources: Some(pod::resources(("10m", "16Mi"), ("50m", "32Mi"))),
                ..Default::default()
            });
        }
        Some(init)
    }
}

fn env_entry(name: &str, value: String) -> corev1::EnvVar {
    corev1::EnvVar {
        name: name.into(),
        value: Some(value),
        ..Default::default()
    }
}

/// The target's trusted CAs, each as `<secret>.crt`, in one projected volume.
fn ca_volume(cas: &[TrustedCa]) -> corev1::Volume {
    corev1::Volume {
        name: "plugin-ca".into(),
        projected: Some(corev1::ProjectedVolumeSource {
            default_mode: Some(0o444),
            sources: Some(
                cas.iter()
                    .map(|ca| corev1::VolumeProjection {
                        secret: Some(corev1::SecretProjection {
                            name: ca.secret.clone(),
                            items: Some(vec![corev1::KeyToPath {
                                key: ca.key.clone(),
                                path: format!("{}.crt", ca.secret),
                                ..Default::default()
                            }]),
                            ..Default::default()
                        }),
                        ..Default::default()
                    })
                    .collect(),
            ),
        }),
        ..Default::default()
    }
}
