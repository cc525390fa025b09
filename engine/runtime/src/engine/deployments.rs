//! The compiled deployments the engine keeps: by id, compiled from the
//! store on first use, and the latest version of each key.

use std::sync::Arc;

use super::Inner;
use crate::deploy::Deployment;

impl Inner {
    /// A deployment by id, compiled from the store on first use.
    pub async fn deployment(&self, id: &str) -> Option<Arc<Deployment>> {
        if let Some(d) = self
            .deployments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_id
            .get(id)
        {
            return Some(d.clone());
        }
        let row = self.store.definition(id).await.ok()??;
        let handler = self.handler.clone();
        let dep = Deployment::compile(Some(&row.key), row.version, &row.xml, &|k, p| {
            handler.check(k, p)
        });
        let dep = match dep {
            Ok(d) => Arc::new(d),
            Err(e) => {
                tracing::error!(
                    definition = id,
                    "a stored definition no longer compiles: {e}"
                );
                return None;
            }
        };
        let mut d = self.deployments.lock().unwrap_or_else(|e| e.into_inner());
        let newer = d
            .latest
            .get(&row.key)
            .and_then(|l| d.by_id.get(l))
            .is_some_and(|x| x.version > row.version);
        if !newer {
            d.latest.insert(row.key.clone(), row.id.clone());
        }
        d.by_id.insert(row.id.clone(), dep.clone());
        Some(dep)
    }

    /// `key` (its latest version) or `key:version` (that version).
    pub async fn by_key(&self, key: &str) -> Option<Arc<Deployment>> {
        if let Some((k, v)) = key.rsplit_once(':')
            && v.parse::<u32>().is_ok()
            && !k.is_empty()
            && let Some(d) = self.deployment(key).await
        {
            return Some(d);
        }
        self.latest(key).await
    }

    pub async fn latest(&self, key: &str) -> Option<Arc<Deployment>> {
        let id = self
            .deployments
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .latest
            .get(key)
            .cloned();
        match id {
            Some(id) => self.deployment(&id).await,
            None => {
                let row = self.store.latest_definition(key).await.ok()??;
                self.deployment(&row.id).await
            }
        }
    }
}
