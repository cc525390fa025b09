//! WeChat bindings in the store, on SQLite and PostgreSQL: one binding per
//! openid and per user within a company, rebinding a user replaces its
//! binding, an openid bound to someone else is a conflict, companies do
//! not see each other's bindings, deleting a user drops its binding.

mod common;

use baton_runtime::store::{CompanyRow, Error, UserRow, WeChatBindingRow};
use common::{TestDb, on_both};

on_both!(bindings);

fn binding(company: &str, openid: &str, user: &str, at: i64) -> WeChatBindingRow {
    WeChatBindingRow {
        company_id: company.into(),
        openid: openid.into(),
        user_id: user.into(),
        bound_at: at,
    }
}

async fn bindings(db: TestDb) {
    let s = &db.store;
    assert_eq!(s.wechat_binding("a", "o1").await.unwrap(), None);

    // First binding; the same again is no change and replaces nothing.
    assert_eq!(
        s.bind_wechat(&binding("a", "o1", "u1", 10)).await.unwrap(),
        None
    );
    assert_eq!(
        s.bind_wechat(&binding("a", "o1", "u1", 11)).await.unwrap(),
        None
    );
    let got = s.wechat_binding("a", "o1").await.unwrap().unwrap();
    assert_eq!((got.user_id.as_str(), got.bound_at), ("u1", 11));
    assert_eq!(
        s.wechat_binding_of_user("a", "u1")
            .await
            .unwrap()
            .unwrap()
            .openid,
        "o1"
    );

    // The openid is u1's: u2 cannot take it, and nothing changed.
    let e = s
        .bind_wechat(&binding("a", "o1", "u2", 12))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict { .. }), "{e}");
    assert_eq!(s.wechat_binding_of_user("a", "u2").await.unwrap(), None);

    // Another company: its own bindings, the same openid and user id apart.
    s.bind_wechat(&binding("b", "o1", "u9", 13)).await.unwrap();
    assert_eq!(
        s.wechat_binding("b", "o1").await.unwrap().unwrap().user_id,
        "u9"
    );
    assert_eq!(
        s.wechat_binding("a", "o1").await.unwrap().unwrap().user_id,
        "u1"
    );

    // u1 binds another WeChat account: the earlier one is replaced.
    let replaced = s.bind_wechat(&binding("a", "o2", "u1", 14)).await.unwrap();
    assert_eq!(replaced.map(|r| r.openid), Some("o1".to_owned()));
    assert_eq!(s.wechat_binding("a", "o1").await.unwrap(), None);
    assert_eq!(
        s.wechat_binding_of_user("a", "u1")
            .await
            .unwrap()
            .unwrap()
            .openid,
        "o2"
    );
    let all: Vec<_> = s
        .wechat_bindings("a")
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.user_id, b.openid))
        .collect();
    assert_eq!(all, vec![("u1".to_owned(), "o2".to_owned())]);

    // Unbinding, by user and by openid.
    assert!(s.unbind_wechat_user("a", "u1").await.unwrap());
    assert!(!s.unbind_wechat_user("a", "u1").await.unwrap());
    assert!(s.unbind_wechat_openid("b", "o1").await.unwrap());
    assert!(!s.unbind_wechat_openid("b", "o1").await.unwrap());
    assert!(s.wechat_bindings("b").await.unwrap().is_empty());

    // Deleting a user drops its binding.
    s.put_company(&CompanyRow {
        id: "c".into(),
        code: "c".into(),
        name: "c".into(),
        wechat_appid: "wx".into(),
        wechat_secret_enc: None,
        created_at: 0,
        updated_at: 0,
    })
    .await
    .unwrap();
    s.put_user(&UserRow {
        id: "uc".into(),
        company_id: "c".into(),
        username: "uc".into(),
        name: String::new(),
        email: String::new(),
        phone: String::new(),
        password_hash: "x".into(),
        admin: false,
        submanager_login: false,
        must_change_password: false,
        disabled: false,
        created_at: 0,
        updated_at: 0,
    })
    .await
    .unwrap();
    s.bind_wechat(&binding("c", "oc", "uc", 15)).await.unwrap();
    assert!(s.delete_user("c", "uc").await.unwrap());
    assert_eq!(s.wechat_binding("c", "oc").await.unwrap(), None);
}
