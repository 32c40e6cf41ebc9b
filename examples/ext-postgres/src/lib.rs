//! `require "pg"`: PostgreSQL queries through `tokio-postgres`, an async
//! Rust client, from moonwire handlers.
//!
//! The query future runs on the calling worker's tokio runtime, so a slow
//! query suspends only its request. Each worker keeps its own small pool of
//! connections (a `thread_local`: a worker is one thread), opened on first
//! use and reopened after a failure.
//!
//! ```lua
//! local pg = require "pg"
//! pg.configure { conninfo = "host=127.0.0.1 user=postgres dbname=test", pool_size = 10 }
//! local rows, err = pg.query("select id, name from users where id = $1", { 42 })
//! -- rows = { { id = 42, name = "ada" } }; SQL NULL is ngx.null
//! ```

use std::cell::RefCell;
use std::rc::Rc;

use moonwire::ext::{Args, Error, Module, Value};
use tokio::sync::OnceCell;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls, Row};

/// Used until `pg.configure` says otherwise.
pub const DEFAULT_CONNINFO: &str = "host=127.0.0.1 user=postgres dbname=test";
pub const DEFAULT_POOL_SIZE: usize = 10;

type Slot = Rc<OnceCell<Client>>;

/// This worker's connections: `pool_size` slots used round-robin (a
/// tokio-postgres client pipelines the queries sent to one connection).
struct Pool {
    conninfo: String,
    slots: Vec<Slot>,
    next: usize,
}

impl Pool {
    fn new(conninfo: String, size: usize) -> Pool {
        Pool {
            conninfo,
            slots: (0..size.max(1)).map(|_| Rc::new(OnceCell::new())).collect(),
            next: 0,
        }
    }

    /// The next slot, emptied first if its connection broke.
    fn pick(&mut self) -> (Slot, String) {
        let i = self.next % self.slots.len();
        self.next = self.next.wrapping_add(1);
        if self.slots[i].get().is_some_and(Client::is_closed) {
            self.slots[i] = Rc::new(OnceCell::new());
        }
        (self.slots[i].clone(), self.conninfo.clone())
    }
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool::new(DEFAULT_CONNINFO.into(), DEFAULT_POOL_SIZE));
}

async fn connect(conninfo: &str) -> Result<Client, String> {
    let (client, conn) = tokio_postgres::connect(conninfo, NoTls)
        .await
        .map_err(|e| message(&e))?;
    // the connection is driven on this worker, beside the requests using it
    tokio::task::spawn_local(async move {
        let _ = conn.await;
    });
    Ok(client)
}

/// The server's message for SQL errors, the client's otherwise.
fn message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

/// A Lua value as a parameter of the type the statement expects.
fn param(v: &Value, ty: &Type, n: usize) -> Result<Box<dyn ToSql + Sync + Send>, String> {
    let bad = || format!("cannot pass a {} as parameter ${n} ({ty})", v.type_name());
    if matches!(v, Value::Nil | Value::Null) {
        return Ok(match *ty {
            Type::BOOL => Box::new(None::<bool>),
            Type::INT2 => Box::new(None::<i16>),
            Type::INT4 => Box::new(None::<i32>),
            Type::INT8 => Box::new(None::<i64>),
            Type::FLOAT4 => Box::new(None::<f32>),
            Type::FLOAT8 => Box::new(None::<f64>),
            Type::BYTEA => Box::new(None::<Vec<u8>>),
            _ => Box::new(None::<String>),
        });
    }
    let int = |v: &Value| v.as_i64().ok_or_else(bad);
    Ok(match *ty {
        Type::BOOL => Box::new(v.as_bool().ok_or_else(bad)?),
        Type::INT2 => Box::new(i16::try_from(int(v)?).map_err(|_| bad())?),
        Type::INT4 => Box::new(i32::try_from(int(v)?).map_err(|_| bad())?),
        Type::INT8 => Box::new(int(v)?),
        Type::FLOAT4 => Box::new(v.as_f64().ok_or_else(bad)? as f32),
        Type::FLOAT8 => Box::new(v.as_f64().ok_or_else(bad)?),
        Type::BYTEA => Box::new(v.as_bytes().ok_or_else(bad)?.to_vec()),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            Box::new(v.as_str().ok_or_else(bad)?.to_string())
        }
        _ => return Err(bad()),
    })
}

/// One row as a table keyed by column name; SQL NULL is `ngx.null`.
fn row(r: &Row) -> Result<Value, String> {
    let mut cols = Vec::with_capacity(r.len());
    for (i, c) in r.columns().iter().enumerate() {
        let get_err = |e: tokio_postgres::Error| format!("column \"{}\": {e}", c.name());
        let v = match *c.type_() {
            // pg_sleep() and friends: no value to read
            Type::VOID => Value::Null,
            Type::BOOL => r.try_get::<_, Option<bool>>(i).map_err(get_err)?.into(),
            Type::INT2 => r
                .try_get::<_, Option<i16>>(i)
                .map_err(get_err)?
                .map(i64::from)
                .into(),
            Type::INT4 => r
                .try_get::<_, Option<i32>>(i)
                .map_err(get_err)?
                .map(i64::from)
                .into(),
            Type::INT8 => r.try_get::<_, Option<i64>>(i).map_err(get_err)?.into(),
            Type::FLOAT4 => r
                .try_get::<_, Option<f32>>(i)
                .map_err(get_err)?
                .map(f64::from)
                .into(),
            Type::FLOAT8 => r.try_get::<_, Option<f64>>(i).map_err(get_err)?.into(),
            Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(i).map_err(get_err)?.into(),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                r.try_get::<_, Option<String>>(i).map_err(get_err)?.into()
            }
            ref t => {
                return Err(format!(
                    "column \"{}\" has unsupported type {t} (cast it to text)",
                    c.name()
                ))
            }
        };
        // a nil would vanish from the Lua table: NULL is ngx.null
        cols.push((c.name().into(), if v.is_nil() { Value::Null } else { v }));
    }
    Ok(Value::Map(cols))
}

async fn query(
    slot: Slot,
    conninfo: String,
    sql: String,
    args: Vec<Value>,
) -> Result<Vec<Value>, String> {
    let client = slot.get_or_try_init(|| connect(&conninfo)).await?;
    let stmt = client.prepare(&sql).await.map_err(|e| message(&e))?;
    if stmt.params().len() != args.len() {
        return Err(format!(
            "the query takes {} parameters, got {}",
            stmt.params().len(),
            args.len()
        ));
    }
    let params = args
        .iter()
        .zip(stmt.params())
        .enumerate()
        .map(|(i, (v, ty))| param(v, ty, i + 1))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&(dyn ToSql + Sync)> =
        params.iter().map(|p| &**p as &(dyn ToSql + Sync)).collect();
    let rows = client.query(&stmt, &refs).await.map_err(|e| message(&e))?;
    let rows = rows.iter().map(row).collect::<Result<Vec<_>, _>>()?;
    Ok(vec![Value::Array(rows)])
}

fn configure(a: Args) -> Result<Vec<Value>, Error> {
    let opts = a.table(1)?;
    let conninfo = match opts.get("conninfo") {
        None => DEFAULT_CONNINFO.to_string(),
        Some(v) => v
            .as_str()
            .ok_or_else(|| a.arg_error(1, "\"conninfo\" must be a string"))?
            .to_string(),
    };
    let size = match opts.get("pool_size") {
        None => DEFAULT_POOL_SIZE,
        Some(v) => v
            .as_i64()
            .filter(|&n| (1..=1000).contains(&n))
            .ok_or_else(|| a.arg_error(1, "\"pool_size\" must be an integer from 1 to 1000"))?
            as usize,
    };
    POOL.with(|p| {
        let mut p = p.borrow_mut();
        // calling it again with the same settings (say, at the top of each request) keeps the pool
        if p.conninfo != conninfo || p.slots.len() != size {
            *p = Pool::new(conninfo, size);
        }
    });
    Ok(vec![true.into()])
}

/// The `pg` module.
pub fn module() -> Module {
    Module::new("pg")
        .function("configure", configure)
        .async_function("query", |a| {
            let sql = a.text(1)?;
            let args = match a.opt_table(2)? {
                None => Vec::new(),
                Some(Value::Array(v)) => v.clone(),
                Some(_) => return Err(a.arg_error(2, "array of parameters expected")),
            };
            let (slot, conninfo) = POOL.with(|p| p.borrow_mut().pick());
            Ok(query(slot, conninfo, sql, args))
        })
        .function("stats", |_| Ok(vec![moonwire::ext::stats().to_value()]))
}
