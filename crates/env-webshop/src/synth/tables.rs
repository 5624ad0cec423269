//! The product types of the synthetic catalogue: department, category path, query, noun phrase,
//! type-specific attributes, option kind and price band. Invented for crossgym; no WebShop data.

/// Which customization options a type offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionKind {
    /// Colour + letter size.
    Apparel,
    /// Colour + numeric shoe size.
    Shoes,
    /// Colour only.
    Color,
    /// Flavour + pack size.
    Flavor,
    /// Scent + bottle size.
    Scent,
    /// Bottle/jar size only.
    Volume,
    /// Storage capacity + colour.
    Capacity,
    /// Bed size + colour.
    Bedding,
    /// Pack count only.
    Pack,
    /// No options.
    None,
}

/// One product type.
#[derive(Clone, Copy, Debug)]
pub struct ProductType {
    /// Department (`category`).
    pub department: &'static str,
    /// Category path parts after the department root.
    pub path: &'static str,
    /// The type's query (what it was "scraped" for).
    pub query: &'static str,
    /// The head noun phrase of titles, title-cased.
    pub noun: &'static str,
    /// Type-specific attributes, `;`-separated.
    pub attributes: &'static str,
    /// Options offered.
    pub options: OptionKind,
    /// Price band in dollars.
    pub price: (f64, f64),
}

use OptionKind::*;

const fn t(
    department: &'static str,
    path: &'static str,
    query: &'static str,
    noun: &'static str,
    attributes: &'static str,
    options: OptionKind,
    price: (f64, f64),
) -> ProductType {
    ProductType {
        department,
        path,
        query,
        noun,
        attributes,
        options,
        price,
    }
}

/// Garments; each is offered for men, women and kids ([`fashion_types`]).
pub const GARMENTS: [(&str, &str, &str, OptionKind, (f64, f64)); 22] = [
    ("Clothing › Shorts", "shorts", "Cargo Shorts;elastic waist;relaxed fit;button closure", Apparel, (14.0, 45.0)),
    ("Clothing › Pants", "pants", "Chino Pants;slim fit;stretch fabric;zipper fly", Apparel, (19.0, 69.0)),
    ("Clothing › Jeans", "jeans", "Denim Jeans;straight leg;high waist;stretch denim", Apparel, (24.0, 89.0)),
    ("Clothing › Tops & Tees", "t-shirts", "Crew Neck T-Shirt;short sleeve;soft cotton;tagless label", Apparel, (8.0, 29.0)),
    ("Clothing › Shirts", "button down shirts", "Oxford Shirt;long sleeve;button down collar;wrinkle free", Apparel, (18.0, 59.0)),
    ("Clothing › Sweaters", "sweaters", "Knit Sweater;crew neck;ribbed cuffs;warm wool", Apparel, (22.0, 79.0)),
    ("Clothing › Hoodies", "hoodies", "Pullover Hoodie;fleece lining;kangaroo pocket;drawstring hood", Apparel, (19.0, 59.0)),
    ("Clothing › Jackets & Coats", "jackets", "Puffer Jacket;water resistant;zip pockets;insulated lining", Apparel, (39.0, 149.0)),
    ("Clothing › Jackets & Coats", "rain jackets", "Rain Jacket;waterproof shell;packable hood;taped seams", Apparel, (29.0, 119.0)),
    ("Clothing › Activewear", "leggings", "Workout Leggings;high waist;squat proof;moisture wicking", Apparel, (15.0, 49.0)),
    ("Clothing › Activewear", "track pants", "Track Pants;tapered leg;side stripes;quick dry", Apparel, (18.0, 55.0)),
    ("Clothing › Sleepwear", "pajama sets", "Pajama Set;soft flannel;button front;relaxed fit", Apparel, (19.0, 49.0)),
    ("Clothing › Socks", "socks", "Crew Socks;cushioned sole;arch support;breathable knit", Apparel, (9.0, 24.0)),
    ("Clothing › Underwear", "boxer briefs", "Boxer Briefs;no ride up;soft waistband;breathable mesh", Apparel, (14.0, 39.0)),
    ("Clothing › Swimwear", "swim trunks", "Swim Trunks;quick dry;mesh lining;elastic waist", Apparel, (15.0, 45.0)),
    ("Shoes › Sneakers", "sneakers", "Running Sneakers;memory foam;non slip sole;lace up", Shoes, (29.0, 119.0)),
    ("Shoes › Boots", "boots", "Chelsea Boots;slip resistant;pull tabs;leather upper", Shoes, (45.0, 159.0)),
    ("Shoes › Sandals", "sandals", "Slide Sandals;open toe;arch support;quick dry", Shoes, (12.0, 49.0)),
    ("Shoes › Slippers", "slippers", "House Slippers;memory foam;faux fur lining;rubber sole", Shoes, (12.0, 39.0)),
    ("Accessories › Hats", "hats", "Baseball Cap;adjustable strap;curved brim;cotton twill", Color, (9.0, 29.0)),
    ("Accessories › Belts", "belts", "Leather Belt;genuine leather;metal buckle;gift box", Apparel, (12.0, 45.0)),
    ("Accessories › Scarves", "scarves", "Winter Scarf;soft knit;fringe trim;warm wool", Color, (10.0, 35.0)),
];

/// The audiences garments are offered for: (title prefix, path part, query prefix).
pub const AUDIENCES: [(&str, &str, &str); 3] = [
    ("Men's", "Men", "men's"),
    ("Women's", "Women", "women's"),
    ("Kids'", "Girls & Boys", "kids"),
];

/// Types outside fashion.
pub const OTHER_TYPES: [ProductType; 144] = [
    // Beauty & personal care.
    t("beauty", "Skin Care › Face › Moisturizers", "face moisturizer", "Face Moisturizer", "hyaluronic acid;fragrance free;oil free", Volume, (9.0, 49.0)),
    t("beauty", "Skin Care › Face › Serums", "vitamin c serum", "Vitamin C Serum", "vitamin c;dark spots;anti aging", Volume, (11.0, 45.0)),
    t("beauty", "Skin Care › Face › Cleansers", "face wash", "Foaming Face Wash", "gentle formula;oil control;sulfate free", Volume, (7.0, 29.0)),
    t("beauty", "Skin Care › Sunscreens", "sunscreen", "Mineral Sunscreen", "spf 50;water resistant;reef safe", Volume, (8.0, 34.0)),
    t("beauty", "Skin Care › Eyes", "eye cream", "Under Eye Cream", "dark circles;puffy eyes;caffeine", Volume, (12.0, 48.0)),
    t("beauty", "Skin Care › Lip Care", "lip balm", "Lip Balm", "shea butter;long lasting;natural ingredients", Pack, (4.0, 16.0)),
    t("beauty", "Skin Care › Body", "body lotion", "Body Lotion", "dry skin;non greasy;shea butter", Scent, (7.0, 26.0)),
    t("beauty", "Skin Care › Body", "body scrub", "Exfoliating Body Scrub", "sea salt;dead skin;natural ingredients", Scent, (9.0, 32.0)),
    t("beauty", "Hair Care › Shampoo", "shampoo", "Moisturizing Shampoo", "sulfate free;color safe;dry hair", Scent, (8.0, 35.0)),
    t("beauty", "Hair Care › Conditioner", "conditioner", "Repair Conditioner", "damaged hair;argan oil;paraben free", Scent, (8.0, 35.0)),
    t("beauty", "Hair Care › Styling", "hair oil", "Argan Hair Oil", "argan oil;frizz control;heat protection", Volume, (9.0, 39.0)),
    t("beauty", "Hair Care › Styling Tools", "hair dryer", "Ionic Hair Dryer", "ionic technology;fast drying;low noise", Color, (25.0, 129.0)),
    t("beauty", "Hair Care › Styling Tools", "flat iron", "Ceramic Flat Iron", "ceramic plates;adjustable temperature;auto shut off", Color, (22.0, 99.0)),
    t("beauty", "Hair Care › Styling Tools", "curling iron", "Curling Iron", "tourmaline ceramic;fast heat up;cool tip", Color, (19.0, 79.0)),
    t("beauty", "Makeup › Face", "foundation", "Liquid Foundation", "full coverage;long lasting;matte finish", Color, (8.0, 42.0)),
    t("beauty", "Makeup › Lips", "lipstick", "Matte Lipstick", "long lasting;highly pigmented;cruelty free", Color, (6.0, 28.0)),
    t("beauty", "Makeup › Eyes", "mascara", "Volumizing Mascara", "waterproof formula;smudge proof;lengthening", Color, (6.0, 26.0)),
    t("beauty", "Makeup › Eyes", "eyeshadow palette", "Eyeshadow Palette", "highly pigmented;blendable;shimmer finish", Color, (9.0, 45.0)),
    t("beauty", "Makeup › Tools", "makeup brushes", "Makeup Brush Set", "synthetic bristles;travel case;cruelty free", Color, (9.0, 39.0)),
    t("beauty", "Makeup › Makeup Remover", "makeup remover", "Micellar Makeup Remover", "sensitive skin;alcohol free;gentle formula", Volume, (6.0, 22.0)),
    t("beauty", "Fragrance › Perfume", "perfume", "Eau de Parfum Spray", "long lasting;floral notes;travel size", Volume, (19.0, 120.0)),
    t("beauty", "Fragrance › Body Spray", "body mist", "Fragrance Body Mist", "light scent;travel size;fine mist", Scent, (8.0, 29.0)),
    t("beauty", "Personal Care › Shaving", "electric razor", "Electric Razor", "wet dry;cordless;pop up trimmer", Color, (29.0, 149.0)),
    t("beauty", "Personal Care › Shaving", "shaving cream", "Shaving Cream", "sensitive skin;aloe vera;rich lather", Scent, (5.0, 19.0)),
    t("beauty", "Personal Care › Oral Care", "electric toothbrush", "Electric Toothbrush", "rechargeable battery;pressure sensor;two minute timer", Color, (24.0, 119.0)),
    t("beauty", "Personal Care › Oral Care", "whitening toothpaste", "Whitening Toothpaste", "fluoride free;fresh breath;enamel safe", Flavor, (4.0, 18.0)),
    t("beauty", "Personal Care › Deodorant", "deodorant", "Natural Deodorant", "aluminum free;all day protection;baking soda free", Scent, (6.0, 18.0)),
    t("beauty", "Personal Care › Bath", "bath bombs", "Bath Bomb Gift Set", "essential oils;gift set;natural ingredients", Scent, (12.0, 39.0)),
    t("beauty", "Nail Care › Nail Polish", "nail polish", "Gel Nail Polish", "long lasting;chip resistant;quick dry", Color, (5.0, 24.0)),
    t("beauty", "Skin Care › Masks", "sheet masks", "Hydrating Sheet Mask", "deep hydration;soothing aloe;cruelty free", Pack, (9.0, 29.0)),
    // Grocery & gourmet food.
    t("grocery", "Beverages › Coffee", "ground coffee", "Ground Coffee", "medium roast;fair trade;arabica beans", Flavor, (7.0, 29.0)),
    t("grocery", "Beverages › Coffee", "coffee pods", "Coffee Pods", "single serve;dark roast;recyclable pods", Flavor, (9.0, 45.0)),
    t("grocery", "Beverages › Tea", "green tea", "Green Tea Bags", "organic tea;caffeine boost;individually wrapped", Flavor, (4.0, 22.0)),
    t("grocery", "Beverages › Tea", "herbal tea", "Herbal Tea Sampler", "caffeine free;organic tea;individually wrapped", Flavor, (6.0, 25.0)),
    t("grocery", "Beverages › Juices", "sparkling water", "Sparkling Water", "zero sugar;zero calories;natural flavors", Flavor, (8.0, 26.0)),
    t("grocery", "Beverages › Drink Mixes", "protein powder", "Whey Protein Powder", "gluten free;low sugar;muscle recovery", Flavor, (19.0, 69.0)),
    t("grocery", "Snack Foods › Chips", "potato chips", "Kettle Potato Chips", "gluten free;non gmo;sea salt", Flavor, (3.0, 24.0)),
    t("grocery", "Snack Foods › Nuts", "mixed nuts", "Roasted Mixed Nuts", "lightly salted;resealable bag;high protein", Flavor, (7.0, 32.0)),
    t("grocery", "Snack Foods › Bars", "protein bars", "Protein Bars", "high protein;low sugar;gluten free", Flavor, (12.0, 39.0)),
    t("grocery", "Snack Foods › Jerky", "beef jerky", "Beef Jerky", "high protein;low fat;grass fed", Flavor, (7.0, 35.0)),
    t("grocery", "Snack Foods › Popcorn", "popcorn", "Microwave Popcorn", "whole grain;non gmo;individually wrapped", Flavor, (4.0, 19.0)),
    t("grocery", "Snack Foods › Crackers", "crackers", "Whole Grain Crackers", "whole grain;baked not fried;non gmo", Flavor, (3.0, 15.0)),
    t("grocery", "Snack Foods › Cookies", "cookies", "Chocolate Chip Cookies", "soft baked;individually wrapped;no artificial flavors", Flavor, (4.0, 21.0)),
    t("grocery", "Candy & Chocolate › Chocolate", "dark chocolate", "Dark Chocolate Bar", "fair trade;dairy free;70 percent cocoa", Flavor, (3.0, 25.0)),
    t("grocery", "Candy & Chocolate › Gummies", "gummy candy", "Gummy Candy", "fat free;gluten free;resealable bag", Flavor, (3.0, 19.0)),
    t("grocery", "Pantry Staples › Honey", "raw honey", "Raw Honey", "unfiltered;unpasteurized;glass jar", Volume, (7.0, 29.0)),
    t("grocery", "Pantry Staples › Oils", "olive oil", "Extra Virgin Olive Oil", "cold pressed;first harvest;glass bottle", Volume, (8.0, 34.0)),
    t("grocery", "Pantry Staples › Pasta", "pasta", "Durum Wheat Pasta", "non gmo;bronze cut;family size", Pack, (3.0, 19.0)),
    t("grocery", "Pantry Staples › Rice", "basmati rice", "Basmati Rice", "long grain;aged rice;gluten free", Pack, (5.0, 29.0)),
    t("grocery", "Pantry Staples › Spices", "spice set", "Spice Gift Set", "salt free;gift set;non gmo", Pack, (12.0, 45.0)),
    t("grocery", "Pantry Staples › Sauces", "hot sauce", "Hot Sauce", "small batch;no preservatives;gluten free", Flavor, (4.0, 18.0)),
    t("grocery", "Pantry Staples › Nut Butters", "peanut butter", "Creamy Peanut Butter", "no added sugar;high protein;non gmo", Pack, (4.0, 18.0)),
    t("grocery", "Breakfast Foods › Cereal", "granola", "Crunchy Granola", "whole grain;low sugar;non gmo", Flavor, (4.0, 19.0)),
    t("grocery", "Breakfast Foods › Oatmeal", "oatmeal", "Instant Oatmeal", "whole grain;high fiber;individually wrapped", Flavor, (3.0, 16.0)),
    t("grocery", "Baking › Flour", "almond flour", "Almond Flour", "gluten free;keto friendly;finely ground", Pack, (6.0, 24.0)),
    t("grocery", "Baking › Sweeteners", "monk fruit sweetener", "Monk Fruit Sweetener", "zero calories;keto friendly;sugar free", Pack, (7.0, 26.0)),
    t("grocery", "Dried Fruits", "dried mango", "Dried Mango Slices", "no added sugar;unsulfured;resealable bag", Pack, (6.0, 22.0)),
    t("grocery", "Canned Foods › Soups", "soup", "Organic Soup", "low sodium;ready to eat;bpa free", Flavor, (3.0, 18.0)),
    t("grocery", "Pantry Staples › Vinegar", "apple cider vinegar", "Apple Cider Vinegar", "raw unfiltered;with the mother;glass bottle", Volume, (4.0, 16.0)),
    t("grocery", "Snack Foods › Seaweed", "seaweed snacks", "Roasted Seaweed Snacks", "low calorie;vegan;gluten free", Flavor, (5.0, 19.0)),
    // Electronics.
    t("electronics", "Headphones › Earbuds", "wireless earbuds", "Wireless Earbuds", "noise cancelling;charging case;bluetooth 5.3", Color, (19.0, 149.0)),
    t("electronics", "Headphones › Over-Ear", "headphones", "Over Ear Headphones", "noise cancelling;long battery life;foldable design", Color, (29.0, 249.0)),
    t("electronics", "Audio › Speakers", "bluetooth speaker", "Portable Bluetooth Speaker", "waterproof;deep bass;long battery life", Color, (19.0, 129.0)),
    t("electronics", "Audio › Soundbars", "soundbar", "Soundbar with Subwoofer", "dolby audio;wall mountable;hdmi arc", None, (59.0, 299.0)),
    t("electronics", "Computers › Accessories", "laptop stand", "Laptop Stand", "adjustable height;aluminum alloy;foldable design", Color, (15.0, 59.0)),
    t("electronics", "Computers › Accessories", "wireless mouse", "Wireless Mouse", "ergonomic design;silent click;usb receiver", Color, (9.0, 49.0)),
    t("electronics", "Computers › Accessories", "mechanical keyboard", "Mechanical Keyboard", "rgb backlit;hot swappable;anti ghosting", Color, (29.0, 149.0)),
    t("electronics", "Computers › Accessories", "usb c hub", "USB C Hub", "4k hdmi;power delivery;plug and play", Color, (15.0, 69.0)),
    t("electronics", "Computers › Accessories", "webcam", "HD Webcam", "1080p video;built in microphone;privacy cover", None, (19.0, 89.0)),
    t("electronics", "Computers › Storage", "external hard drive", "Portable External Hard Drive", "usb 3.0;plug and play;shock resistant", Capacity, (45.0, 189.0)),
    t("electronics", "Computers › Storage", "usb flash drive", "USB Flash Drive", "high speed;keychain design;usb 3.0", Capacity, (6.0, 39.0)),
    t("electronics", "Computers › Storage", "memory card", "Micro SD Memory Card", "high speed;4k video;with adapter", Capacity, (7.0, 59.0)),
    t("electronics", "Cell Phones › Cases", "phone case", "Shockproof Phone Case", "shockproof;slim fit;wireless charging compatible", Color, (7.0, 29.0)),
    t("electronics", "Cell Phones › Chargers", "wireless charger", "Wireless Charging Pad", "fast charging;led indicator;non slip", Color, (9.0, 39.0)),
    t("electronics", "Cell Phones › Chargers", "power bank", "Portable Power Bank", "fast charging;dual usb;led display", Capacity, (15.0, 69.0)),
    t("electronics", "Cell Phones › Accessories", "screen protector", "Tempered Glass Screen Protector", "bubble free;case friendly;9h hardness", Pack, (5.0, 19.0)),
    t("electronics", "Cables › HDMI", "hdmi cable", "High Speed HDMI Cable", "4k video;gold plated;braided cord", Pack, (6.0, 29.0)),
    t("electronics", "Cables › USB", "usb c cable", "USB C Charging Cable", "fast charging;braided nylon;durable connector", Pack, (5.0, 24.0)),
    t("electronics", "Television & Video › Streaming", "streaming stick", "4K Streaming Stick", "voice remote;4k hdr;dolby vision", None, (25.0, 69.0)),
    t("electronics", "Television & Video › Mounts", "tv wall mount", "Full Motion TV Wall Mount", "full motion;easy install;heavy duty", None, (19.0, 99.0)),
    t("electronics", "Camera & Photo › Tripods", "tripod", "Aluminum Tripod", "lightweight aluminum;quick release;carry bag", Color, (19.0, 89.0)),
    t("electronics", "Camera & Photo › Lighting", "ring light", "LED Ring Light", "dimmable light;phone holder;tripod stand", Color, (15.0, 69.0)),
    t("electronics", "Camera & Photo › Security", "security camera", "Indoor Security Camera", "night vision;motion detection;two way audio", Pack, (25.0, 119.0)),
    t("electronics", "Smart Home › Plugs", "smart plug", "Smart Plug", "voice control;energy monitoring;no hub required", Pack, (9.0, 39.0)),
    t("electronics", "Smart Home › Lighting", "smart light bulbs", "Smart LED Light Bulbs", "color changing;voice control;dimmable light", Pack, (12.0, 49.0)),
    t("electronics", "Wearables › Fitness Trackers", "fitness tracker", "Fitness Tracker Watch", "heart rate monitor;sleep tracking;water resistant", Color, (25.0, 129.0)),
    t("electronics", "Wearables › Bands", "smart watch band", "Silicone Watch Band", "quick release;sweat proof;adjustable fit", Color, (6.0, 24.0)),
    t("electronics", "Gaming › Controllers", "game controller", "Wireless Game Controller", "dual vibration;rechargeable battery;low latency", Color, (19.0, 69.0)),
    t("electronics", "Gaming › Headsets", "gaming headset", "Gaming Headset", "surround sound;noise cancelling microphone;memory foam", Color, (19.0, 99.0)),
    t("electronics", "Office Electronics › Calculators", "calculator", "Scientific Calculator", "solar powered;large display;two line display", Color, (9.0, 29.0)),
    // Home & kitchen.
    t("furniture", "Kitchen & Dining › Cookware", "frying pan", "Nonstick Frying Pan", "nonstick coating;oven safe;induction compatible", Volume, (15.0, 79.0)),
    t("furniture", "Kitchen & Dining › Cookware", "dutch oven", "Enameled Cast Iron Dutch Oven", "cast iron;oven safe;enameled finish", Color, (39.0, 199.0)),
    t("furniture", "Kitchen & Dining › Cookware", "saucepan", "Stainless Steel Saucepan", "stainless steel;glass lid;dishwasher safe", Volume, (19.0, 69.0)),
    t("furniture", "Kitchen & Dining › Knives", "chef knife", "Chef Knife", "high carbon steel;ergonomic handle;razor sharp", Color, (15.0, 89.0)),
    t("furniture", "Kitchen & Dining › Knives", "knife set", "Kitchen Knife Set", "wooden block;high carbon steel;dishwasher safe", Color, (39.0, 199.0)),
    t("furniture", "Kitchen & Dining › Utensils", "cutting board", "Bamboo Cutting Board", "juice groove;easy clean;eco friendly", Pack, (12.0, 45.0)),
    t("furniture", "Kitchen & Dining › Utensils", "silicone spatula", "Silicone Spatula Set", "heat resistant;bpa free;dishwasher safe", Color, (8.0, 26.0)),
    t("furniture", "Kitchen & Dining › Storage", "food storage containers", "Glass Food Storage Containers", "airtight lids;microwave safe;bpa free", Pack, (19.0, 59.0)),
    t("furniture", "Kitchen & Dining › Drinkware", "water bottle", "Insulated Water Bottle", "double wall;leak proof;bpa free", Color, (12.0, 45.0)),
    t("furniture", "Kitchen & Dining › Drinkware", "travel mug", "Travel Coffee Mug", "vacuum insulated;spill proof;dishwasher safe", Color, (12.0, 39.0)),
    t("furniture", "Kitchen & Dining › Drinkware", "wine glasses", "Crystal Wine Glasses", "lead free;dishwasher safe;gift box", Pack, (19.0, 69.0)),
    t("furniture", "Kitchen & Dining › Dinnerware", "dinnerware set", "Stoneware Dinnerware Set", "microwave safe;chip resistant;service for four", Color, (39.0, 149.0)),
    t("furniture", "Kitchen & Dining › Appliances", "coffee maker", "Programmable Coffee Maker", "programmable timer;auto shut off;reusable filter", Color, (29.0, 149.0)),
    t("furniture", "Kitchen & Dining › Appliances", "electric kettle", "Electric Kettle", "auto shut off;boil dry protection;stainless steel", Color, (19.0, 69.0)),
    t("furniture", "Kitchen & Dining › Appliances", "air fryer", "Digital Air Fryer", "digital display;nonstick basket;dishwasher safe", Color, (49.0, 179.0)),
    t("furniture", "Kitchen & Dining › Appliances", "blender", "High Speed Blender", "high speed;bpa free;self cleaning", Color, (29.0, 199.0)),
    t("furniture", "Kitchen & Dining › Appliances", "toaster", "Wide Slot Toaster", "wide slots;bagel setting;removable crumb tray", Color, (19.0, 79.0)),
    t("furniture", "Kitchen & Dining › Appliances", "rice cooker", "Rice Cooker", "keep warm;nonstick inner pot;one touch", Color, (19.0, 99.0)),
    t("furniture", "Bedding › Sheets", "bed sheets", "Microfiber Sheet Set", "deep pocket;wrinkle free;machine washable", Bedding, (19.0, 79.0)),
    t("furniture", "Bedding › Comforters", "comforter", "Down Alternative Comforter", "all season;machine washable;corner tabs", Bedding, (29.0, 129.0)),
    t("furniture", "Bedding › Pillows", "pillows", "Memory Foam Pillow", "memory foam;neck support;washable cover", Pack, (19.0, 69.0)),
    t("furniture", "Bedding › Mattress Toppers", "mattress topper", "Gel Memory Foam Mattress Topper", "cooling gel;pressure relief;certipur certified", Bedding, (49.0, 199.0)),
    t("furniture", "Bedding › Blankets", "throw blanket", "Fleece Throw Blanket", "super soft;lightweight;machine washable", Color, (14.0, 49.0)),
    t("furniture", "Bath › Towels", "bath towels", "Cotton Bath Towel Set", "highly absorbent;quick dry;soft cotton", Color, (19.0, 69.0)),
    t("furniture", "Bath › Mats", "bath mat", "Memory Foam Bath Mat", "non slip;machine washable;super absorbent", Color, (12.0, 39.0)),
    t("furniture", "Bath › Shower", "shower curtain", "Waterproof Shower Curtain", "waterproof fabric;rust proof grommets;machine washable", Color, (12.0, 39.0)),
    t("furniture", "Furniture › Office", "office chair", "Ergonomic Office Chair", "lumbar support;adjustable height;breathable mesh", Color, (89.0, 299.0)),
    t("furniture", "Furniture › Office", "standing desk", "Electric Standing Desk", "height adjustable;memory presets;sturdy frame", Color, (149.0, 499.0)),
    t("furniture", "Furniture › Living Room", "bookshelf", "Industrial Bookshelf", "easy assembly;metal frame;sturdy shelves", Color, (39.0, 159.0)),
    t("furniture", "Furniture › Living Room", "coffee table", "Lift Top Coffee Table", "hidden storage;lift top;easy assembly", Color, (69.0, 249.0)),
    t("furniture", "Furniture › Living Room", "storage ottoman", "Folding Storage Ottoman", "foldable design;hidden storage;faux leather", Color, (25.0, 89.0)),
    t("furniture", "Furniture › Bedroom", "nightstand", "Nightstand with Drawer", "easy assembly;charging station;storage drawer", Color, (39.0, 149.0)),
    t("furniture", "Home Decor › Lighting", "table lamp", "Bedside Table Lamp", "usb charging port;dimmable light;linen shade", Color, (19.0, 79.0)),
    t("furniture", "Home Decor › Lighting", "floor lamp", "Arc Floor Lamp", "adjustable head;foot switch;energy saving", Color, (39.0, 149.0)),
    t("furniture", "Home Decor › Candles", "scented candles", "Soy Scented Candle", "soy wax;long burning;cotton wick", Scent, (9.0, 35.0)),
    t("furniture", "Home Decor › Rugs", "area rug", "Washable Area Rug", "machine washable;non slip backing;low pile", Bedding, (39.0, 199.0)),
    t("furniture", "Home Decor › Curtains", "blackout curtains", "Blackout Curtains", "thermal insulated;noise reducing;grommet top", Color, (19.0, 69.0)),
    t("furniture", "Home Decor › Mirrors", "wall mirror", "Round Wall Mirror", "metal frame;shatter resistant;easy hanging", Color, (29.0, 129.0)),
    t("furniture", "Home Decor › Clocks", "wall clock", "Silent Wall Clock", "silent movement;easy to read;battery operated", Color, (12.0, 45.0)),
    t("furniture", "Storage & Organization › Baskets", "storage baskets", "Woven Storage Baskets", "foldable design;sturdy handles;natural fibers", Pack, (15.0, 49.0)),
    t("furniture", "Storage & Organization › Closet", "hangers", "Velvet Hangers", "non slip;space saving;heavy duty", Pack, (12.0, 39.0)),
    t("furniture", "Storage & Organization › Shoe Racks", "shoe rack", "Stackable Shoe Rack", "easy assembly;space saving;sturdy frame", Color, (15.0, 59.0)),
    t("furniture", "Cleaning › Vacuums", "robot vacuum", "Robot Vacuum Cleaner", "strong suction;self charging;app control", Color, (129.0, 399.0)),
    t("furniture", "Cleaning › Vacuums", "cordless vacuum", "Cordless Stick Vacuum", "lightweight;long runtime;hepa filter", Color, (79.0, 299.0)),
    t("furniture", "Cleaning › Mops", "spin mop", "Spin Mop and Bucket", "microfiber pads;foot pedal;easy wring", Color, (19.0, 59.0)),
    t("furniture", "Heating & Cooling › Fans", "tower fan", "Oscillating Tower Fan", "remote control;quiet operation;timer function", Color, (39.0, 129.0)),
    t("furniture", "Heating & Cooling › Humidifiers", "humidifier", "Cool Mist Humidifier", "quiet operation;auto shut off;night light", Color, (25.0, 89.0)),
    t("furniture", "Heating & Cooling › Air Purifiers", "air purifier", "HEPA Air Purifier", "true hepa;quiet operation;filter indicator", Color, (59.0, 249.0)),
    t("furniture", "Heating & Cooling › Heaters", "space heater", "Ceramic Space Heater", "tip over protection;overheat protection;quiet operation", Color, (25.0, 89.0)),
    t("furniture", "Patio & Garden › Planters", "planters", "Ceramic Planter Pots", "drainage hole;indoor outdoor;modern design", Pack, (15.0, 59.0)),
    t("furniture", "Patio & Garden › Lighting", "solar lights", "Solar Pathway Lights", "solar powered;waterproof;auto on off", Pack, (15.0, 59.0)),
    t("furniture", "Patio & Garden › Hoses", "garden hose", "Expandable Garden Hose", "leak proof;lightweight;spray nozzle", Color, (19.0, 69.0)),
    t("furniture", "Pet Supplies › Beds", "dog bed", "Orthopedic Dog Bed", "memory foam;removable cover;non slip bottom", Bedding, (25.0, 119.0)),
    t("furniture", "Pet Supplies › Bowls", "pet bowls", "Stainless Steel Pet Bowls", "non slip;dishwasher safe;stainless steel", Pack, (8.0, 29.0)),
];
