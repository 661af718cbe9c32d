//! `TokenStore`: tokens kept as hashes, listed, revoked, and the bootstrap
//! token issued once per database.

use chrono::{DateTime, Duration, Utc};
use teams_usage_store::auth::{hash_secret, issue_token, IssuedToken, Scopes, TokenReach};
use teams_usage_store::domain::truncate_to_micros;

use crate::common::fixtures::tenant;
use crate::common::Backend;
use crate::TestStore;

backend_tests!(
    a_token_is_found_by_its_hash_only,
    tokens_are_listed_oldest_first_by_tenant,
    a_revoked_token_stays_revoked,
    the_bootstrap_token_is_issued_once,
    an_all_tenants_token_keeps_its_reach,
);

fn issue(tenant_name: &str, scopes: &str, created_at: DateTime<Utc>) -> IssuedToken {
    issue_token(
        tenant(tenant_name),
        format!("{tenant_name} collector"),
        Scopes::parse(scopes).unwrap(),
        Some(created_at + Duration::days(90)),
        created_at,
    )
}

async fn a_token_is_found_by_its_hash_only(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let issued = issue("t1", "Reports.Read.All Reports.ReadWrite.All", Utc::now());
    t.store.insert_token(&issued.stored).await.unwrap();
    let found = t
        .store
        .find_token(&hash_secret(&issued.secret))
        .await
        .unwrap();
    assert_eq!(found, Some(issued.stored.clone()));
    // Neither the secret nor another hash finds it.
    assert_eq!(t.store.find_token(&issued.secret).await.unwrap(), None);
    let other = hash_secret("tus_not-issued");
    assert_eq!(t.store.find_token(&other).await.unwrap(), None);
    // A hash is stored once.
    let mut twin = issue("t2", "Reports.Read.All", Utc::now()).stored;
    twin.token_hash = issued.stored.token_hash.clone();
    assert!(t.store.insert_token(&twin).await.is_err());
    assert_eq!(t.store.list_tokens(None).await.unwrap().len(), 1);
}

async fn tokens_are_listed_oldest_first_by_tenant(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let start = Utc::now() - Duration::hours(1);
    let tokens: Vec<_> = [("t2", 3), ("t1", 1), ("t1", 2), ("t2", 0)]
        .into_iter()
        .map(|(name, minutes)| {
            issue(name, "Reports.Read.All", start + Duration::minutes(minutes)).stored
        })
        .collect();
    for token in &tokens {
        t.store.insert_token(token).await.unwrap();
    }
    let all = t.store.list_tokens(None).await.unwrap();
    assert_eq!(
        all,
        [
            tokens[3].clone(),
            tokens[1].clone(),
            tokens[2].clone(),
            tokens[0].clone()
        ]
    );
    let t1 = t.store.list_tokens(Some(&tenant("t1"))).await.unwrap();
    assert_eq!(t1, tokens[1..3]);
    let none = t.store.list_tokens(Some(&tenant("t3"))).await.unwrap();
    assert_eq!(none, []);
}

async fn a_revoked_token_stays_revoked(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let kept = issue("t1", "Reports.Read.All", Utc::now());
    let revoked = issue("t1", "Reports.ReadWrite.All", Utc::now());
    t.store.insert_token(&kept.stored).await.unwrap();
    t.store.insert_token(&revoked.stored).await.unwrap();
    let at = Utc::now();
    assert!(t.store.revoke_token(revoked.stored.id, at).await.unwrap());
    // Revoking again, or an unknown id, reports that nothing was revoked.
    let later = at + Duration::minutes(1);
    assert!(!t
        .store
        .revoke_token(revoked.stored.id, later)
        .await
        .unwrap());
    assert!(!t
        .store
        .revoke_token(uuid::Uuid::now_v7(), at)
        .await
        .unwrap());
    let found = t
        .store
        .find_token(&hash_secret(&revoked.secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.revoked_at, Some(truncate_to_micros(at)));
    let untouched = t
        .store
        .find_token(&hash_secret(&kept.secret))
        .await
        .unwrap();
    assert_eq!(untouched, Some(kept.stored));
}

async fn the_bootstrap_token_is_issued_once(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let first = issue("default", "Reports.ReadWrite.All", Utc::now());
    let second = issue("default", "Reports.ReadWrite.All", Utc::now());
    assert!(t.store.insert_bootstrap_token(&first.stored).await.unwrap());
    assert!(!t
        .store
        .insert_bootstrap_token(&second.stored)
        .await
        .unwrap());
    assert_eq!(
        t.store
            .find_token(&hash_secret(&second.secret))
            .await
            .unwrap(),
        None
    );
    // Even once the first is revoked: a database gets one bootstrap in its life.
    t.store
        .revoke_token(first.stored.id, Utc::now())
        .await
        .unwrap();
    assert!(!t
        .store
        .insert_bootstrap_token(&second.stored)
        .await
        .unwrap());
    assert_eq!(t.store.list_tokens(None).await.unwrap().len(), 1);
    // Replicas starting together race for it: exactly one wins.
    let racers: Vec<_> = (0..4)
        .map(|_| issue("default", "Reports.ReadWrite.All", Utc::now()))
        .collect();
    let fresh = TestStore::open(backend).await.unwrap();
    let wins = futures_util::future::join_all(
        racers
            .iter()
            .map(|r| fresh.store.insert_bootstrap_token(&r.stored)),
    )
    .await;
    let wins: Vec<bool> = wins.into_iter().map(Result::unwrap).collect();
    assert_eq!(wins.iter().filter(|&&w| w).count(), 1, "{wins:?}");
    assert_eq!(fresh.store.list_tokens(None).await.unwrap().len(), 1);
}

async fn an_all_tenants_token_keeps_its_reach(backend: Backend) {
    let Some(t) = TestStore::open(backend).await else {
        return;
    };
    let ordinary = issue("contoso", "Reports.Read.All", Utc::now());
    let operator = issue("msp", "Reports.Read.All", Utc::now()).reaching(TokenReach::AllTenants);
    t.store.insert_token(&ordinary.stored).await.unwrap();
    t.store.insert_token(&operator.stored).await.unwrap();
    for issued in [&ordinary, &operator] {
        let found = t
            .store
            .find_token(&hash_secret(&issued.secret))
            .await
            .unwrap();
        assert_eq!(found.map(|f| f.reach), Some(issued.stored.reach));
    }
    let listed: Vec<TokenReach> = t
        .store
        .list_tokens(None)
        .await
        .unwrap()
        .into_iter()
        .map(|token| token.reach)
        .collect();
    assert_eq!(listed, [TokenReach::Tenant, TokenReach::AllTenants]);
}
