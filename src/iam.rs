//! An admin credential's IAM policy: which actions on which pools its `allow` and `resources`
//! lists permit, and AWS's words when they do not.
//!
//! Evaluated as IAM evaluates it, before the pool is looked up, so the pool need not exist.
//! Patterns are globs whose only wildcard is `*`, matched without backtracking blow-up. An
//! action pattern may be qualified (`cognito-idp:Admin*`) or not (`Admin*`); a resource pattern
//! is a pool id or a pool ARN pattern. Which action an operation needs is declared beside the
//! operation (`ops::Auth::SigV4`).

use crate::config::{region_of, AdminCredential};

/// The IAM service prefix of Cognito user-pool actions.
pub const SERVICE_PREFIX: &str = "cognito-idp:";

/// The ARN of pool `pool_id` under the credential's account (region from the id).
pub fn pool_arn(credential: &AdminCredential, pool_id: &str) -> String {
    let region = region_of(pool_id);
    format!(
        "arn:aws:cognito-idp:{region}:{}:userpool/{pool_id}",
        credential.account_id
    )
}

/// Whether `credential` may perform `action` (`cognito-idp:AdminUserGlobalSignOut`) on pool
/// `pool_id`. An absent list allows everything of its kind.
pub fn permits(credential: &AdminCredential, action: &str, pool_id: &str) -> bool {
    let bare = action.strip_prefix(SERVICE_PREFIX).unwrap_or(action);
    let action_ok = credential.allow.as_ref().is_none_or(|allow| {
        allow
            .iter()
            .any(|pattern| glob_match(pattern, action) || glob_match(pattern, bare))
    });
    let arn = pool_arn(credential, pool_id);
    let resource_ok = credential.resources.as_ref().is_none_or(|resources| {
        resources
            .iter()
            .any(|pattern| pattern == pool_id || glob_match(pattern, &arn))
    });
    action_ok && resource_ok
}

/// AWS's AccessDeniedException text for `credential` refused `action` on `pool_id`.
pub fn denial(credential: &AdminCredential, action: &str, pool_id: &str) -> String {
    format!(
        "User: arn:aws:iam::{}:user/{} is not authorized to perform: {action} on resource: {}",
        credential.account_id,
        credential.access_key_id,
        pool_arn(credential, pool_id)
    )
}

/// `*`-only glob, iterative (no backtracking blow-up on configuration-sized inputs).
fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi.min(p.len())..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(allow: &[&str], resources: &[&str]) -> AdminCredential {
        AdminCredential {
            access_key_id: "AKIAEXAMPLEEXAMPLE01".into(),
            secret_access_key: "0123456789abcdef0123".into(),
            allow: Some(allow.iter().map(|a| (*a).to_owned()).collect()),
            resources: Some(resources.iter().map(|r| (*r).to_owned()).collect()),
            account_id: "000000000000".into(),
        }
    }

    #[test]
    fn admin_allow_lists_match_actions_and_pool_arns() {
        let cred = credential(
            &["cognito-idp:AdminUserGlobalSignOut"],
            &["arn:aws:cognito-idp:us-east-1:*:userpool/us-east-1_AbC*"],
        );
        let sign_out = "cognito-idp:AdminUserGlobalSignOut";
        assert!(permits(&cred, sign_out, "us-east-1_AbC123"));
        assert!(permits(&cred, sign_out, "us-east-1_AbCdef"));
        assert!(!permits(&cred, sign_out, "us-west-2_AbC123"));
        assert!(!permits(
            &cred,
            "cognito-idp:AdminDeleteUser",
            "us-east-1_AbC123"
        ));
        assert_eq!(
            denial(&cred, "cognito-idp:AdminDeleteUser", "us-east-1_AbC123"),
            "User: arn:aws:iam::000000000000:user/AKIAEXAMPLEEXAMPLE01 is not authorized to perform: cognito-idp:AdminDeleteUser on resource: arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_AbC123"
        );
    }

    #[test]
    fn an_action_pattern_may_leave_out_the_service_prefix() {
        let cred = credential(&["Admin*"], &["us-east-1_AbC123"]);
        assert!(permits(
            &cred,
            "cognito-idp:AdminGetUser",
            "us-east-1_AbC123"
        ));
        assert!(!permits(&cred, "cognito-idp:GetUser", "us-east-1_AbC123"));
        assert!(!permits(
            &cred,
            "cognito-idp:AdminGetUser",
            "us-east-1_AbC124"
        ));
    }

    #[test]
    fn absent_lists_allow_everything_of_their_kind() {
        let mut cred = credential(&[], &[]);
        assert!(!permits(&cred, "cognito-idp:AdminGetUser", "us-east-1_A"));
        (cred.allow, cred.resources) = (None, None);
        assert!(permits(&cred, "cognito-idp:AdminGetUser", "us-east-1_A"));
    }

    #[test]
    fn glob_handles_stars_anywhere() {
        assert!(glob_match("*", ""));
        assert!(glob_match("a*c", "abbbc"));
        assert!(glob_match("cognito-idp:Admin*", "cognito-idp:AdminGetUser"));
        assert!(!glob_match("a*c", "abbb"));
        assert!(glob_match("*a*b*", "xxaxxbxx"));
    }
}
