//! Every operation of Cognito user pools' API (`AWSCognitoIdentityProviderService.<Name>`), with
//! whether Cognito needs it SigV4-signed: the botocore model's list (141 operations). Only
//! these names are ever forwarded, and a signed one only after the caller's own signature and
//! allow-list pass. An operation Cognito adds later is refused (UnknownOperationException) until
//! it is listed here.

/// How Cognito authenticates an operation's caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// SigV4 (IAM): the caller signs with an `ADMIN_CREDENTIALS` key; the Worker re-signs.
    Signed,
    /// No AWS signature: the token, client or code in the body is the credential.
    Unsigned,
}

use Signing::{Signed, Unsigned};

/// Cognito's operations, by name.
const OPERATIONS: &[(&str, Signing)] = &[
    ("AddCustomAttributes", Signed),
    ("AddUserPoolClientSecret", Signed),
    ("AdminAddUserToGroup", Signed),
    ("AdminConfirmSignUp", Signed),
    ("AdminCreateUser", Signed),
    ("AdminDeleteSoftwareToken", Signed),
    ("AdminDeleteUser", Signed),
    ("AdminDeleteUserAttributes", Signed),
    ("AdminDisableProviderForUser", Signed),
    ("AdminDisableUser", Signed),
    ("AdminEnableUser", Signed),
    ("AdminForgetDevice", Signed),
    ("AdminGetDevice", Signed),
    ("AdminGetUser", Signed),
    ("AdminGetUserAuthFactors", Signed),
    ("AdminInitiateAuth", Signed),
    ("AdminLinkProviderForUser", Signed),
    ("AdminListDevices", Signed),
    ("AdminListGroupsForUser", Signed),
    ("AdminListUserAuthEvents", Signed),
    ("AdminListUserSessions", Signed),
    ("AdminRemoveUserFromGroup", Signed),
    ("AdminResetUserPassword", Signed),
    ("AdminRespondToAuthChallenge", Signed),
    ("AdminRevokeUserSession", Signed),
    ("AdminSetUserMFAPreference", Signed),
    ("AdminSetUserPassword", Signed),
    ("AdminSetUserSettings", Signed),
    ("AdminUpdateAuthEventFeedback", Signed),
    ("AdminUpdateDeviceStatus", Signed),
    ("AdminUpdateUserAttributes", Signed),
    ("AdminUserGlobalSignOut", Signed),
    ("AssociateSoftwareToken", Unsigned),
    ("ChangePassword", Unsigned),
    ("CompleteWebAuthnRegistration", Unsigned),
    ("ConfirmDevice", Unsigned),
    ("ConfirmForgotPassword", Unsigned),
    ("ConfirmSignUp", Unsigned),
    ("CreateGroup", Signed),
    ("CreateIdentityProvider", Signed),
    ("CreateManagedLoginBranding", Signed),
    ("CreateResourceServer", Signed),
    ("CreateTerms", Signed),
    ("CreateUserImportJob", Signed),
    ("CreateUserPool", Signed),
    ("CreateUserPoolClient", Signed),
    ("CreateUserPoolDomain", Signed),
    ("CreateUserPoolReplica", Signed),
    ("DeleteGroup", Signed),
    ("DeleteIdentityProvider", Signed),
    ("DeleteManagedLoginBranding", Signed),
    ("DeleteResourceServer", Signed),
    ("DeleteTerms", Signed),
    ("DeleteUser", Unsigned),
    ("DeleteUserAttributes", Unsigned),
    ("DeleteUserPool", Signed),
    ("DeleteUserPoolClient", Signed),
    ("DeleteUserPoolClientSecret", Signed),
    ("DeleteUserPoolDomain", Signed),
    ("DeleteUserPoolReplica", Signed),
    ("DeleteWebAuthnCredential", Unsigned),
    ("DescribeIdentityProvider", Signed),
    ("DescribeManagedLoginBranding", Signed),
    ("DescribeManagedLoginBrandingByClient", Signed),
    ("DescribeResourceServer", Signed),
    ("DescribeRiskConfiguration", Signed),
    ("DescribeTerms", Signed),
    ("DescribeTermsByClient", Signed),
    ("DescribeUserImportJob", Signed),
    ("DescribeUserPool", Signed),
    ("DescribeUserPoolClient", Signed),
    ("DescribeUserPoolDomain", Signed),
    ("ForgetDevice", Unsigned),
    ("ForgotPassword", Unsigned),
    ("GetCSVHeader", Signed),
    ("GetClientToken", Signed),
    ("GetDerivedToken", Signed),
    ("GetDevice", Unsigned),
    ("GetGroup", Signed),
    ("GetIdentityProviderByIdentifier", Signed),
    ("GetLogDeliveryConfiguration", Signed),
    ("GetProvisionedLimit", Signed),
    ("GetSigningCertificate", Signed),
    ("GetTokensFromRefreshToken", Unsigned),
    ("GetUICustomization", Signed),
    ("GetUser", Unsigned),
    ("GetUserAttributeVerificationCode", Unsigned),
    ("GetUserAuthFactors", Unsigned),
    ("GetUserPoolClientSessionConfiguration", Signed),
    ("GetUserPoolMfaConfig", Signed),
    ("GetUserPoolSessionConfiguration", Signed),
    ("GlobalSignOut", Unsigned),
    ("InitiateAuth", Unsigned),
    ("ListDevices", Unsigned),
    ("ListGroups", Signed),
    ("ListIdentityProviders", Signed),
    ("ListResourceServers", Signed),
    ("ListTagsForResource", Signed),
    ("ListTerms", Signed),
    ("ListUserImportJobs", Signed),
    ("ListUserPoolClientSecrets", Signed),
    ("ListUserPoolClients", Signed),
    ("ListUserPoolReplicas", Signed),
    ("ListUserPools", Signed),
    ("ListUserSessions", Unsigned),
    ("ListUsers", Signed),
    ("ListUsersInGroup", Signed),
    ("ListWebAuthnCredentials", Unsigned),
    ("ResendConfirmationCode", Unsigned),
    ("RespondToAuthChallenge", Unsigned),
    ("RevokeToken", Unsigned),
    ("RevokeUserSession", Unsigned),
    ("SetLogDeliveryConfiguration", Signed),
    ("SetRiskConfiguration", Signed),
    ("SetUICustomization", Signed),
    ("SetUserMFAPreference", Unsigned),
    ("SetUserPoolClientSessionConfiguration", Signed),
    ("SetUserPoolMfaConfig", Signed),
    ("SetUserPoolSessionConfiguration", Signed),
    ("SetUserSettings", Unsigned),
    ("SignUp", Unsigned),
    ("StartUserImportJob", Signed),
    ("StartWebAuthnRegistration", Unsigned),
    ("StopUserImportJob", Signed),
    ("TagResource", Signed),
    ("UntagResource", Signed),
    ("UpdateAuthEventFeedback", Unsigned),
    ("UpdateDeviceStatus", Unsigned),
    ("UpdateGroup", Signed),
    ("UpdateIdentityProvider", Signed),
    ("UpdateManagedLoginBranding", Signed),
    ("UpdateProvisionedLimit", Signed),
    ("UpdateResourceServer", Signed),
    ("UpdateTerms", Signed),
    ("UpdateUserAttributes", Unsigned),
    ("UpdateUserPool", Signed),
    ("UpdateUserPoolClient", Signed),
    ("UpdateUserPoolDomain", Signed),
    ("UpdateUserPoolReplica", Signed),
    ("VerifySoftwareToken", Unsigned),
    ("VerifyUserAttribute", Unsigned),
];

/// Cognito's exception names (the model's error shapes), so an upstream error can be named
/// on the JavaScript API; anything else reads InternalErrorException.
const EXCEPTIONS: &[&str] = &[
    "AccessDeniedException",
    "AliasExistsException",
    "CodeDeliveryFailureException",
    "CodeMismatchException",
    "ConcurrentModificationException",
    "DeviceKeyExistsException",
    "DuplicateProviderException",
    "EnableSoftwareTokenMFAException",
    "ExpiredCodeException",
    "FeatureUnavailableInTierException",
    "ForbiddenException",
    "GroupExistsException",
    "InternalErrorException",
    "InternalServerException",
    "InvalidEmailRoleAccessPolicyException",
    "InvalidLambdaResponseException",
    "InvalidOAuthFlowException",
    "InvalidParameterException",
    "InvalidPasswordException",
    "InvalidSmsRoleAccessPolicyException",
    "InvalidSmsRoleTrustRelationshipException",
    "InvalidUserPoolConfigurationException",
    "LimitExceededException",
    "MFAMethodNotFoundException",
    "ManagedLoginBrandingExistsException",
    "NotAuthorizedException",
    "OperationNotEnabledException",
    "PasswordHistoryPolicyViolationException",
    "PasswordResetRequiredException",
    "PreconditionNotMetException",
    "RefreshTokenReuseException",
    "ResourceNotFoundException",
    "ScopeDoesNotExistException",
    "ServiceQuotaExceededException",
    "SoftwareTokenMFANotFoundException",
    "TermsExistsException",
    "TierChangeNotAllowedException",
    "TooManyFailedAttemptsException",
    "TooManyRequestsException",
    "UnauthorizedException",
    "UnexpectedLambdaException",
    "UnsupportedIdentityProviderException",
    "UnsupportedOperationException",
    "UnsupportedTokenTypeException",
    "UnsupportedUserStateException",
    "UserImportInProgressException",
    "UserLambdaValidationException",
    "UserNotConfirmedException",
    "UserNotFoundException",
    "UserPoolAddOnNotEnabledException",
    "UserPoolTaggingException",
    "UsernameExistsException",
    "WebAuthnChallengeNotFoundException",
    "WebAuthnClientMismatchException",
    "WebAuthnConfigurationMissingException",
    "WebAuthnCredentialNotSupportedException",
    "WebAuthnNotEnabledException",
    "WebAuthnOriginNotAllowedException",
    "WebAuthnRelyingPartyMismatchException",
];

/// The Cognito operation with this exact name, as a `'static` name and how it is signed.
pub fn lookup(name: &str) -> Option<(&'static str, Signing)> {
    OPERATIONS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|&(known, signing)| (known, signing))
}

/// Cognito's exception name `name` as a `'static` name, if it is one.
pub fn exception(name: &str) -> Option<&'static str> {
    EXCEPTIONS.iter().copied().find(|known| *known == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_holds_cognitos_operations_once_each_and_signs_the_admin_ones() {
        assert!(OPERATIONS.len() >= 141);
        for (i, (name, signing)) in OPERATIONS.iter().enumerate() {
            assert!(
                !OPERATIONS[..i].iter().any(|(n, _)| n == name),
                "{name} twice"
            );
            if name.starts_with("Admin") {
                assert_eq!(*signing, Signed, "{name}");
            }
        }
        for unsigned in [
            "InitiateAuth",
            "GlobalSignOut",
            "RevokeToken",
            "SignUp",
            "GetUser",
            "DeleteUser",
        ] {
            assert_eq!(lookup(unsigned), Some((unsigned, Unsigned)));
        }
        assert_eq!(lookup("ListUsers"), Some(("ListUsers", Signed)));
        assert_eq!(lookup("listUsers"), None);
        assert_eq!(lookup("AssumeRole"), None);
    }
}
