//! Which recorded runs a status shows: those of the sources and periods
//! configured now. A source taken out of the configuration (or a period taken
//! out of its list) leaves the status; its runs stay in `collection_runs`.

use super::settings::CollectSettings;
use crate::domain::ReportPeriod;
use crate::storage::CollectionStatus;

/// The configured sources' names and periods; no secret. Unknown when this
/// process has no source configured (the collection runs elsewhere, say).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfiguredSources {
    configured: Option<Vec<(String, ReportPeriod)>>,
}

impl ConfiguredSources {
    /// The sources of `settings`; unknown without settings.
    pub fn of(settings: Option<&CollectSettings>) -> Self {
        Self {
            configured: settings.map(|settings| {
                settings
                    .sources
                    .iter()
                    .flat_map(|source| {
                        source
                            .periods
                            .iter()
                            .map(|&period| (source.name.clone(), period))
                    })
                    .collect()
            }),
        }
    }

    /// The statuses of configured sources and periods, in their order; every
    /// one of them when the configuration is unknown here.
    pub fn current(&self, mut statuses: Vec<CollectionStatus>) -> Vec<CollectionStatus> {
        if let Some(configured) = &self.configured {
            statuses.retain(|status| {
                let run = &status.last_run;
                configured
                    .iter()
                    .any(|(name, period)| *name == run.source && *period == run.period)
            });
        }
        statuses
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;
    use crate::collect::{Credential, RetryPolicy, Source};
    use crate::domain::{ApiVersion, Secret, TenantId};
    use crate::storage::{CollectionRun, ConflictPolicy};

    fn status(source: &str, period: ReportPeriod) -> CollectionStatus {
        let now = Utc::now();
        CollectionStatus {
            last_run: CollectionRun {
                id: Uuid::now_v7(),
                source: source.into(),
                target_tenant: TenantId::parse("default").unwrap(),
                period,
                started_at: now,
                finished_at: now,
                created: 0,
                already_stored: 0,
                conflicting: 0,
                error: None,
            },
            last_success: Some(now),
            failures_since_success: 0,
        }
    }

    fn settings(sources: &[(&str, &[ReportPeriod])]) -> CollectSettings {
        CollectSettings {
            sources: sources
                .iter()
                .map(|(name, periods)| Source {
                    name: (*name).into(),
                    graph_tenant: "contoso.onmicrosoft.com".into(),
                    client_id: "app".into(),
                    credential: Credential::Secret(Secret::new("secret-value")),
                    target_tenant: TenantId::parse("default").unwrap(),
                    periods: periods.to_vec(),
                    api_version: ApiVersion::Beta,
                })
                .collect(),
            graph_url: "https://graph.example".into(),
            login_url: "https://login.example".into(),
            every: None,
            on_conflict: ConflictPolicy::Keep,
            retry: RetryPolicy::with_base(std::time::Duration::from_secs(2)),
        }
    }

    fn names(statuses: Vec<CollectionStatus>) -> Vec<(String, ReportPeriod)> {
        statuses
            .into_iter()
            .map(|s| (s.last_run.source, s.last_run.period))
            .collect()
    }

    #[test]
    fn only_configured_sources_and_periods_are_current() {
        use ReportPeriod::{D30, D7};
        let recorded = || vec![status("a", D7), status("a", D30), status("b", D7)];
        let configured = ConfiguredSources::of(Some(&settings(&[("a", &[D7])])));
        assert_eq!(names(configured.current(recorded())), [("a".into(), D7)]);
        // Nothing configured here: nothing to tell current from old by.
        assert_eq!(ConfiguredSources::of(None).current(recorded()).len(), 3);
        assert!(!format!("{configured:?}").contains("secret-value"));
    }
}
