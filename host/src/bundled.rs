//! Plugins built from `plugins/` by `host/build.rs` and compiled into the binary,
//! so `motcua demo` can deploy them on a fresh machine.

/// Birth registration (đăng ký khai sinh), commune level.
pub const BIRTH_REGISTRATION: &[u8] = include_bytes!(concat!(
    env!("MOTCUA_BUILT_PLUGINS"),
    "/birth_registration.wasm"
));

/// Business-household registration (đăng ký hộ kinh doanh).
pub const BUSINESS_HOUSEHOLD: &[u8] = include_bytes!(concat!(
    env!("MOTCUA_BUILT_PLUGINS"),
    "/business_household.wasm"
));

/// Death registration (đăng ký khai tử), commune level.
pub const DEATH_REGISTRATION: &[u8] = include_bytes!(concat!(
    env!("MOTCUA_BUILT_PLUGINS"),
    "/death_registration.wasm"
));

/// Marriage registration (đăng ký kết hôn), commune level.
pub const MARRIAGE_REGISTRATION: &[u8] = include_bytes!(concat!(
    env!("MOTCUA_BUILT_PLUGINS"),
    "/marriage_registration.wasm"
));

/// Certified copies from an original (chứng thực bản sao từ bản chính), commune level,
/// with a fee tiered by page (contract 0.2.0's fee schedules).
pub const CERTIFIED_COPIES: &[u8] = include_bytes!(concat!(
    env!("MOTCUA_BUILT_PLUGINS"),
    "/certified_copies.wasm"
));

/// Land-use certificate (cấp giấy chứng nhận quyền sử dụng đất), province level.
pub const LAND_USE_CERTIFICATE: &[u8] = include_bytes!(concat!(
    env!("MOTCUA_BUILT_PLUGINS"),
    "/land_use_certificate.wasm"
));

/// Xuân Hòa ward's local variant of business-household registration.
pub const BUSINESS_HOUSEHOLD_ONSITE: &[u8] = include_bytes!(concat!(
    env!("MOTCUA_BUILT_PLUGINS"),
    "/business_household_onsite.wasm"
));

/// Where the build script left every built component, test fixtures included.
pub const BUILT_PLUGINS_DIR: &str = env!("MOTCUA_BUILT_PLUGINS");

/// Reads a component built from `plugins/` by its artifact stem, e.g. `fixture_trap`.
pub fn built_plugin(stem: &str) -> std::io::Result<Vec<u8>> {
    std::fs::read(std::path::Path::new(BUILT_PLUGINS_DIR).join(format!("{stem}.wasm")))
}
