"""English texts."""

TEXTS: dict[str, str] = {
    # -- start / help
    "start": (
        "👋 <b>Hi! I turn marketplace links into clean cards.</b>\n\n"
        "Paste a link, an app share text or an ID from:\n"
        "• <b>Anjuke</b> 安居客: homes for sale, rent, new homes, commercial\n"
        "• <b>Beike / Lianjia</b> 贝壳/链家: resale homes\n"
        "• <b>Xianyu</b> 闲鱼: second-hand items\n\n"
        "Examples:\n"
        "<code>https://bj.ke.com/ershoufang/101127449675.html</code>\n"
        "<code>https://www.goofish.com/item?id=712345678901</code>\n"
        "<code>https://beijing.anjuke.com/prop/view/A1234567890</code>\n\n"
        "💱 Trade-in quote: <code>/quote iPhone 14 Pro 256G 95新</code>\n"
        "🔔 Price alerts: <code>/watch &lt;link&gt; 5%</code>, then /watches\n"
        "👤 /link your Anjuke account · /forget deletes your data\n"
        "/help shows this again."
    ),
    "cmd_start": "Start and examples",
    "cmd_help": "What I can do",
    "cmd_quote": "Trade-in quote for a device",
    "cmd_watch": "Watch a listing's price",
    "cmd_watches": "Your watched listings",
    "cmd_unwatch": "Stop watching a listing",
    "cmd_link": "Link your Anjuke account",
    "cmd_account": "Your linked account",
    "cmd_forget": "Delete everything about you",
    "cmd_cancel": "Cancel the current question",
    # -- listings
    "no_listing": (
        "I found no listing in that message. Paste a link from Anjuke, Beike/Lianjia or "
        "Xianyu, an app share text, or an ID. /help shows examples."
    ),
    "too_many": "That message names many listings; I'll show the first {count}.",
    "which_platform": "Which platform is <code>{token}</code> from?",
    "which_city": "Which city is the Beike listing <code>{code}</code> in?",
    "city_last": "{city} (last used)",
    "short_not_listing": "That short link doesn't lead to a Xianyu item.",
    "short_failed": "I couldn't open that short link. Try the full link from the app.",
    "sandbox": "sandbox",
    "btn_watch": "🔔 Watch price",
    "btn_refresh": "🔄 Refresh",
    "btn_photos": "🖼 Photos ({count})",
    "btn_open": "🔗 Open on {platform}",
    "watch_soon": "Price alerts are coming soon.",
    "refreshed": "Up to date.",
    "refresh_unchanged": "Nothing changed.",
    "no_more_photos": "This listing has no photos.",
    "expired_button": "This button has expired. Send the link again.",
    # -- card labels
    "status_on_sale": "On sale",
    "status_on_rent": "For rent",
    "status_sold": "Sold",
    "status_rented": "Rented",
    "status_taken_down": "Taken down",
    "kind_sale": "Home for sale",
    "kind_rent": "Rental",
    "kind_new_home": "New home",
    "kind_commercial": "Commercial",
    "kind_item": "Item",
    "price_wan": "{price} 万 (¥{yuan})",
    "price_month": "¥{price}/month",
    "price_yuan": "¥{price}",
    "unit_price": "¥{price}/㎡",
    "original_price": "was ¥{price}",
    "agent": "Agent",
    "seller": "Seller",
    "fact_layout": "Layout",
    "fact_area": "Area",
    "fact_area_inner": "Inner area",
    "fact_floor": "Floor",
    "fact_orientation": "Facing",
    "fact_community": "Community",
    "fact_district": "District",
    "fact_address": "Address",
    "fact_decoration": "Decoration",
    "fact_built_year": "Built",
    "fact_listed": "Listed",
    "fact_elevator": "Elevator",
    "fact_usage": "Use",
    "fact_ownership": "Ownership",
    "fact_metro": "Metro",
    "fact_school": "Schools",
    "fact_commerce": "Shops",
    "fact_down_payment": "Down payment",
    "fact_monthly_payment": "Monthly",
    "fact_price_trend": "30-day trend",
    "fact_house_code": "Record no.",
    "fact_building": "Building",
    "fact_condition": "Condition",
    "fact_location": "Location",
    "fact_seller_rating": "Seller rating",
    "fact_seller_level": "Seller level",
    "fact_shipping": "Shipping",
    "fact_guarantee": "Guarantee",
    "fact_category": "Category",
    "fact_sales": "Sold",
    # -- platform names
    "platform_anjuke": "Anjuke",
    "platform_beike": "Beike",
    "platform_xianyu": "Xianyu",
    "platform_aihuishou": "Aihuishou",
    "platform_anjuke_open": "Anjuke account",
    # -- errors (by PlatformError.kind)
    "error_not_found": "{platform}: this listing doesn't exist or was removed. Check the link or ID.",
    "error_bad_request": "{platform} didn't accept that ID. Check it and send it again.",
    "error_not_permitted": "{platform} refused this bot's access right now. Please tell the bot's operator.",
    "error_rate_limited": "{platform} is busy. Try again in a minute.",
    "error_quota_exhausted": "Today's {platform} lookups are used up. Try again tomorrow.",
    "error_insufficient_balance": "This bot's {platform} account is out of credit. Please tell the bot's operator.",
    "error_transient": "{platform} didn't answer in time. Try again in a moment.",
    "error_disabled": "{platform} isn't enabled on this bot.",
    "error_unavailable": "{platform} is temporarily unavailable. Try again in a few minutes.",
    "error_account_exists": "{platform}: that account already exists.",
    "error_error": "{platform} failed. Try again later.",
    "error_internal": "Sorry, something went wrong on my side. Please try again.",
}
