//! The roles of the matrix and what each must get from a route.

use baton_web::perm::{Function, Level};
use baton_web::routes::Access;
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Anonymous,
    NoPermission,
    Viewer,
    Manager,
    Admin,
    OtherCompany,
}

pub(crate) const ROLES: [Role; 6] = [
    Role::Anonymous,
    Role::NoPermission,
    Role::Viewer,
    Role::Manager,
    Role::Admin,
    Role::OtherCompany,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    Unauthenticated,
    Forbidden,
    NotFound,
    Through,
}

/// What `role` must get from `route`.
pub(crate) fn expect(route: &baton_web::routes::Route, role: Role) -> Expect {
    let on_object = route.path.contains('{');
    match (route.access, role) {
        (Access::Anonymous, _) => Expect::Through,
        (_, Role::Anonymous) => Expect::Unauthenticated,
        // Only the root company's admins manage companies, whichever it is.
        (Access::Needs(Function::Companies, Level::Manage), r) => {
            if r == Role::Admin {
                Expect::Through
            } else {
                Expect::Forbidden
            }
        }
        // Another company's object is invisible; its own lists show only its own.
        (_, Role::OtherCompany) if on_object => {
            // PUT of a global by name creates the caller's own variable.
            if route.method == "PUT" && route.path.ends_with("{name}") {
                Expect::Through
            } else {
                Expect::NotFound
            }
        }
        (Access::SignedIn, _) => Expect::Through,
        (Access::Needs(_, level), r) => {
            let has = match r {
                Role::NoPermission => Level::None,
                Role::Viewer => Level::View,
                _ => Level::Manage,
            };
            if has >= level {
                Expect::Through
            } else {
                Expect::Forbidden
            }
        }
    }
}
